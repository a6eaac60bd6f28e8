"""The README's custom stage ("Use the stages as a library"), shipped so that its
``plugins: [cleanpipe.examples.my_stages]`` config runs as written. Your own stages go in a
module of yours (``my_stages.py`` beside the config: ``plugins: [my_stages]``); a test keeps
this file and the README's code the same."""

from cleanpipe.stages import Filter, register
from cleanpipe.stages.base import Drop


@register("min_chars")  # the name a config uses
class MinChars(Filter):
    def __init__(self, *, min_chars: int = 200, annotate_only: bool = False) -> None:
        super().__init__(annotate_only=annotate_only)
        self.min_chars = min_chars

    def check(self, doc):
        chars = doc.meta["chars"] = len(doc.text)  # score first ...
        if chars < self.min_chars:  # ... decide second
            return Drop("too_short", f"chars {chars} < {self.min_chars}")
        return None
