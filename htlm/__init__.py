"""htlm: hypertext language-model pretraining (HTLM-style) from Common Crawl to HTML prompts."""

__version__ = "0.1.0"
