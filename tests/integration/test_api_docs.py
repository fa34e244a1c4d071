"""/docs on both APIs: Swagger UI whose every file the app serves itself, reading /openapi.json."""

from html.parser import HTMLParser

import pytest
from marshmallow import Schema

from services.ingest.api import OPERATIONS as INGEST_OPERATIONS
from services.ingest.app import create_app as create_ingest
from services.publish.api import OPERATIONS as PUBLISH_OPERATIONS
from services.publish.app import create_app as create_publish
from shared.schemas import ArticleIn, BatchIn


class Assets(HTMLParser):
    """The URLs a page loads: script src and link href."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


@pytest.fixture(params=["ingest", "publish"])
def client(request, app_env):
    return {"ingest": create_ingest, "publish": create_publish}[request.param](app_env).test_client()


def test_docs_is_swagger_ui_loading_only_files_the_app_serves_without_a_key(client):
    page = client.get("/docs", follow_redirects=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "SwaggerUIBundle" in html and '"/openapi.json"' in html and '"validatorUrl": null' in html
    assets = Assets()
    assets.feed(html)
    scripts = [url for url in assets.urls if url.endswith(".js")]
    assert scripts and any(url.endswith(".css") for url in assets.urls)
    for url in assets.urls:
        assert url.startswith("/"), f"{url} is not served by the app"
        assert client.get(url).status_code == 200, url


def test_openapi_has_request_schemas_with_examples_and_the_bearer_scheme(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    bodies = [op["requestBody"] for ops in spec["paths"].values() for op in ops.values() if "requestBody" in op]
    assert bodies
    for body in bodies:
        content = body["content"]["application/json"]
        assert content["schema"]["$ref"].removeprefix("#/components/schemas/") in spec["components"]["schemas"]
        assert content["example"]
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert op["security"] == ([] if not path.startswith("/v1") else [{"bearer": []}]), path


@pytest.mark.parametrize(
    "op", [op for op in INGEST_OPERATIONS + PUBLISH_OPERATIONS if op.body], ids=lambda op: f"{op.method} {op.path}"
)
def test_every_request_example_is_valid(op):
    body: Schema = op.body()
    loaded = body.load(op.example)
    if op.body is BatchIn:  # its items are checked one by one, as the API does
        for item in loaded["articles"]:
            ArticleIn().load(item)
