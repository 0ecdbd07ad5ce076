"""Spreadsheet pages for community workers: template, import, export."""

app_name = "spreadsheets"
urlpatterns: list = []
