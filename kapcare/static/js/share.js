// Share buttons: the Web Share API where the browser has it, and copy-link.
// Plain links (email, Facebook, X, LinkedIn) work without this file.
(function () {
  "use strict";
  var status = document.querySelector("[data-share-status]");
  function say(text) { if (status) { status.textContent = text; } }
  document.querySelectorAll("[data-share-url]").forEach(function (button) {
    if (!navigator.share) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.shareTitle, url: button.dataset.shareUrl })
        .catch(function () {});
    });
  });
  document.querySelectorAll("[data-copy-url]").forEach(function (button) {
    button.addEventListener("click", function () {
      var url = button.dataset.copyUrl;
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(url).then(
          function () { say("Link copied."); },
          function () { say("Copy this link: " + url); }
        );
      } else {
        say("Copy this link: " + url);
      }
    });
  });
})();
