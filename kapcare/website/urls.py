from django.urls import path

from kapcare.website import editor_views, public_views, views

app_name = "website"

urlpatterns = [
    path("", public_views.home, name="home"),
    path("services/", public_views.site_page, {"key": "services"}, name="services"),
    path("team/", public_views.site_page, {"key": "team"}, name="team"),
    path("questions/", public_views.site_page, {"key": "faq"}, name="faq"),
    path("locations/", public_views.site_page, {"key": "locations"}, name="locations"),
    path("contact/", public_views.site_page, {"key": "contact"}, name="contact"),
    path("privacy/", public_views.site_page, {"key": "privacy"}, name="privacy"),
    path("blog/", public_views.post_list, name="post_list"),
    path("blog/feed/", public_views.rss_feed, name="rss_feed"),
    path("blog/feed/atom/", public_views.atom_feed, name="atom_feed"),
    path(
        "blog/category/<slug:slug>/",
        public_views.category_posts,
        name="category_posts",
    ),
    path("blog/tag/<slug:slug>/", public_views.tag_posts, name="tag_posts"),
    path("blog/<slug:slug>/", public_views.post_detail, name="post_detail"),
    path("images/<path:name>", public_views.image, name="image"),
    path("sitemap.xml", public_views.sitemap, name="sitemap"),
    path("robots.txt", public_views.robots_txt, name="robots_txt"),
    path("clinic/logo/", views.clinic_logo, name="clinic_logo"),
    path("clinic/settings/", views.clinic_settings, name="clinic_settings"),
    path("site/", editor_views.editor_home, name="editor_home"),
    path("site/posts/new/", editor_views.post_create, name="post_create"),
    path("site/posts/<uuid:post_id>/", editor_views.post_edit, name="post_edit"),
    path(
        "site/posts/<uuid:post_id>/delete/",
        editor_views.post_delete,
        name="post_delete",
    ),
    path(
        "site/posts/<uuid:post_id>/preview/",
        editor_views.post_preview,
        name="post_preview",
    ),
    path("site/preview/", editor_views.markdown_preview, name="markdown_preview"),
    path("site/pages/<slug:key>/", editor_views.page_edit, name="page_edit"),
    path("site/team/new/", editor_views.profile_create, name="profile_create"),
    path(
        "site/team/<uuid:profile_id>/",
        editor_views.profile_edit,
        name="profile_edit",
    ),
]
