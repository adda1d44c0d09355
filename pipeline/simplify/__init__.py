"""The MHTML simplifier (HTLM §2.1): `simplify(html) -> MHTML | Rejection`; the rules, one module each."""

from htlm.pipeline.simplify.config import DEFAULT_CONFIG, MHTML, Rejection, SimplifyConfig
from htlm.pipeline.simplify.mhtml import simplify

__all__ = ["DEFAULT_CONFIG", "MHTML", "Rejection", "SimplifyConfig", "simplify"]
