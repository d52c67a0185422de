"""Does the query's language suit the model? An English-only model (SigLIP, OpenAI CLIP) ranks a
Russian query poorly; the answer then says so and names the two ways out."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.i18n import N_, Message
from engine.models.registry import ModelSpec
from engine.text.script import main_non_latin_script


def model_language_note(text: str, used: Sequence[ModelSpec], registry: Mapping[str, ModelSpec]) -> str | None:
    """A note when `text` (what is embedded) has letters of a script the `used` models were not
    trained on; None when it is Latin-only or every model used is multilingual."""
    script = main_non_latin_script(text)
    english_only = [spec.name for spec in used if not spec.multilingual]
    if script is None or not english_only:
        return None
    which = ", ".join(english_only)
    trained = (N_("{models} was trained on English only", models=which) if len(english_only) == 1
               else N_("{models} were trained on English only", models=which))
    script_name = Message(script, {})  # shown translated when it is one of SCRIPT_NAMES
    multilingual = next((spec.name for spec in registry.values() if spec.multilingual), None)
    if multilingual:
        return N_("the query is in {script} script and {trained}, so results will rank poorly: set TRANSLATE_API_KEY "
                  "to translate queries to English, or search with the multilingual {multilingual} (photoindex models "
                  "download {multilingual}, photoindex index --model {multilingual}, then CLIP_MODEL={multilingual})",
                  script=script_name, trained=trained, multilingual=multilingual)
    return N_("the query is in {script} script and {trained}, so results will rank poorly: set TRANSLATE_API_KEY "
              "to translate queries to English", script=script_name, trained=trained)


SCRIPT_NAMES = (N_("Cyrillic"), N_("Greek"), N_("Arabic"), N_("Hebrew"), N_("Chinese"), N_("Japanese"), N_("Korean"),
                N_("Armenian"), N_("Georgian"), N_("Devanagari"), N_("Thai"))
"""The scripts a note names, marked for translation (`engine.text.script.script_of` names them)."""
