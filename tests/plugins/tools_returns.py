"""
title: Toolkit returning every kind of value
"""

from fastapi.responses import HTMLResponse


class Tools:
    def give_dict(self) -> dict:
        return {"city": "Zürich", "temp": 21}

    def give_list(self) -> list:
        return [1, "two"]

    def give_tuple(self) -> tuple:
        return ({"first": True}, {"ignored": True})

    def give_str(self) -> str:
        return "plain text"

    def give_none(self) -> None:
        return None

    def give_int(self) -> int:
        return 42

    def give_error_text(self) -> str:
        return "Error: the service is down"

    def give_html(self) -> HTMLResponse:
        return HTMLResponse("<b>chart</b>", headers={"Content-Disposition": "inline"})

    def give_html_with_context(self) -> tuple:
        page = HTMLResponse("<b>chart</b>", headers={"Content-Disposition": "inline"})
        return page, "A chart of the sales is shown."

    def give_html_download(self) -> HTMLResponse:
        return HTMLResponse("<p>report</p>")
