def ui(request):
    """Elder mode (长辈版) is a per-browser preference kept in a cookie."""
    return {"elder_mode": request.COOKIES.get("elder") == "1"}
