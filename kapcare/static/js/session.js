// After htmx redraws the dosing session, move focus to its message (or the first
// error) so keyboard and screen-reader users hear what happened. No inline script.
document.addEventListener("htmx:afterSettle", function () {
  var body = document.getElementById("session-body");
  if (!body) {
    return;
  }
  var target = body.querySelector(".form-errors, .messages");
  if (target) {
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: false });
  }
});
