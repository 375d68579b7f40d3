from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("<slug:slug>/", views.project_detail, name="detail"),
    path("<slug:slug>/fact-sheet/", views.project_fact_sheet, name="fact_sheet"),
    path("<slug:slug>/acres.json", views.acres_json, name="acres"),
]
