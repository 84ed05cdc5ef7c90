"""Which distribution provides an imported module, for the modules whose import name is not
their package's name (`import yaml` comes from `pyyaml`)."""

from __future__ import annotations

from packaging.utils import canonicalize_name

# The usual mismatches in community plugins; any other module is taken to be its own package.
_PACKAGE_OF_MODULE = {
    "PIL": "pillow",
    "bs4": "beautifulsoup4",
    "yaml": "pyyaml",
    "google.genai": "google-genai",
    "google.generativeai": "google-generativeai",
    "google.cloud.storage": "google-cloud-storage",
    "dateutil": "python-dateutil",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "fitz": "pymupdf",
    "sklearn": "scikit-learn",
    "cv2": "opencv-python-headless",
    "jwt": "pyjwt",
    "dotenv": "python-dotenv",
    "magic": "python-magic",
    "multipart": "python-multipart",
    "socketio": "python-socketio",
    "mimeparse": "python-mimeparse",
    "psycopg2": "psycopg2-binary",
    "Crypto": "pycryptodome",
    "duckduckgo_search": "duckduckgo-search",
    "youtube_transcript_api": "youtube-transcript-api",
    "azure.identity": "azure-identity",
    "azure.storage.blob": "azure-storage-blob",
    "langchain_core": "langchain-core",
    "langchain_text_splitters": "langchain-text-splitters",
    "re2": "google-re2",
    "rank_bm25": "rank-bm25",
    "faster_whisper": "faster-whisper",
    "sentence_transformers": "sentence-transformers",
    "fake_useragent": "fake-useragent",
    "argon2": "argon2-cffi",
    "attr": "attrs",
}


def package_for_module(module: str) -> str:
    """The distribution that most likely provides `module` (a dotted import name)."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        known = _PACKAGE_OF_MODULE.get(".".join(parts[:end]))
        if known:
            return known
    return canonicalize_name(parts[0])
