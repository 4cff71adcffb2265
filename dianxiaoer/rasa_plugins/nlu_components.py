"""Rasa graph components of the shop assistant's NLU pipeline.

Text normalizer, linear intent classifier, vocabulary entity ruler, input guard. They
are thin: the work is done by `dianxiaoer.core.text`, `dianxiaoer.nlu.linear` and
`dianxiaoer.knowledge.vocabulary`, which have no Rasa imports and are unit-tested on their own.
"""

from __future__ import annotations

import logging
import re
from typing import Any, cast

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from dianxiaoer.core import text as textlib
from dianxiaoer.knowledge import vocabulary

logger = logging.getLogger(__name__)

#: Output property describing the raw input; kept in the tracker's parse data.
INPUT_KEY = "input"
#: Intent assigned to input with no letter, digit or Chinese character.
GIBBERISH_INTENT = "send_gibberish"
#: Intent assigned to a message that is nothing but an identifier (order number, ...).
INFORM_INTENT = "inform"
ID_ENTITIES = frozenset({"order_id", "phone_tail", "tracking_number"})
# Labels that may stand around a bare identifier: "订单号：202611010001", "尾号是1234".
_ID_LABELS = re.compile(
    r"订单号码|订单号|订单编号|订单|单号|运单号|快递单号|手机尾号|手机后四位|后四位|后4位|尾号|"
    r"号码|是|为|[:：,，.。\s]"
)


class _Untrained(GraphComponent):
    """A component built from its config alone: nothing to train or persist."""

    def __init__(self, config: dict[str, Any]) -> None:
        """Store the config."""
        self._config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> _Untrained:
        """Create the component from its config."""
        return cls(config)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TextNormalizer(_Untrained):
    """First in the pipeline: rewrites TEXT to the canonical simplified form.

    The original text, its script (simplified/traditional), whether it was cut and
    whether it carries any meaning are stored under `input` in the parse data.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: `max_chars` None means the policy file's nlu.max_message_chars."""
        return {"max_chars": None}

    def __init__(self, config: dict[str, Any]) -> None:
        """Store the config; the character limit is resolved on first use."""
        super().__init__(config)
        self._max_chars: int | None = config.get("max_chars")

    @property
    def max_chars(self) -> int:
        """Length limit from the config, else from the shop policy file."""
        if self._max_chars is None:
            from dianxiaoer.core.policy import get_policy

            self._max_chars = int(get_policy()["nlu.max_message_chars"])
        return self._max_chars

    def _normalize(self, message: Message, remap_entities: bool) -> None:
        raw = message.get(TEXT)
        if raw is None:  # intent-only or action messages from stories
            return
        result = textlib.normalize(raw, self.max_chars)
        message.set(TEXT, result.text)
        message.set(
            INPUT_KEY,
            {
                "original": result.original,
                "script": result.script,
                "truncated": result.truncated,
                "meaningful": result.meaningful,
            },
            add_to_output=True,
        )
        if remap_entities and message.get(ENTITIES) and result.text != raw:
            kept = []
            for entity in message.get(ENTITIES):
                span = result.map_span(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
                if span:
                    kept.append({**entity, "start": span[0], "end": span[1]})
            message.set(ENTITIES, kept)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Normalize training examples too, moving annotated entity offsets along."""
        for example in training_data.training_examples:
            self._normalize(example, remap_entities=True)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Normalize incoming messages."""
        for message in messages:
            self._normalize(message, remap_entities=False)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Intents from a linear SVM over character n-grams of the normalized text.

    The model itself is `dianxiaoer.nlu.linear.LinearIntentModel`; this adapter trains it
    on the intent examples, stores it in the model archive and fills `intent` and
    `intent_ranking` like Rasa's classifiers do.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: n-gram lengths, SVM regularisation, softmax temperature."""
        return {
            "min_ngram": 1,
            "max_ngram": 3,
            "C": 2.0,
            "temperature": 5.0,
            "ranking_length": 10,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Any = None,
    ) -> None:
        """Store the config and, once trained or loaded, the model."""
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the model on the intent examples (already normalized) and persist it."""
        from dianxiaoer.nlu.linear import LinearIntentModel

        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        self._model = LinearIntentModel.fit(
            [e.get(TEXT) for e in examples],
            [e.get(INTENT) for e in examples],
            min_n=int(self._config["min_ngram"]),
            max_n=int(self._config["max_ngram"]),
            c=float(self._config["C"]),
            temperature=float(self._config["temperature"]),
            random_seed=int(self._config["random_seed"]),
        )
        with self._model_storage.write_to(self._resource) as directory:
            self._model.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        """The trained classifier from the model archive (untrained if it has none)."""
        from dianxiaoer.nlu.linear import LinearIntentModel

        try:
            with model_storage.read_from(resource) as directory:
                if LinearIntentModel.exists(directory):
                    return cls(config, model_storage, resource, LinearIntentModel.load(directory))
        except ValueError:  # Rasa's way of saying the resource is not in the archive
            logger.debug("no trained %s in the model archive", cls.__name__)
        return cls(config, model_storage, resource)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set `intent` and `intent_ranking` on each message."""
        for message in messages:
            text = message.get(TEXT)
            if self._model is None or not text:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
                continue
            ranking = [
                {"name": name, "confidence": confidence}
                for name, confidence in self._model.rank_past_courtesy(
                    text, int(self._config["ranking_length"])
                )
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class VocabularyEntityExtractor(_Untrained, EntityExtractorMixin):
    """Finds products, couriers, payment methods, policy and glossary terms.

    A blank spaCy `zh` pipeline (jieba segmenter) with an EntityRuler whose patterns come
    from the vocabulary file at load time, so vocabulary edits need no retraining. The
    same words are added to jieba so the Rasa tokenizer keeps them whole as well.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Default config: `vocabulary_file` None means SHOP_VOCABULARY_FILE / default."""
        return {"vocabulary_file": None}

    def __init__(self, config: dict[str, Any]) -> None:
        """Store the config; spaCy and the patterns are built on first use."""
        super().__init__(config)
        self._nlp = None

    @property
    def nlp(self):
        """The spaCy pipeline, built lazily from the vocabulary file."""
        if self._nlp is None:
            from pathlib import Path

            path = self._config.get("vocabulary_file")
            terms = vocabulary.load_vocabulary(Path(path) if path else None)
            self._nlp = build_entity_pipeline(terms)
        return self._nlp

    def extract(self, text: str) -> list[dict[str, Any]]:
        """Entities in `text` as Rasa entity dicts (value = canonical name)."""
        if not text:
            return []
        doc = self.nlp(text)
        return [
            {
                "entity": ent.label_,
                "start": ent.start_char,
                "end": ent.end_char,
                "value": ent.ent_id_ or ent.text,
                "confidence_entity": 1.0,
            }
            for ent in doc.ents
        ]

    def process(self, messages: list[Message]) -> list[Message]:
        """Append vocabulary entities to each message."""
        for message in messages:
            found = self.add_extractor_name(self.extract(message.get(TEXT) or ""))
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages


def build_entity_pipeline(terms: list[vocabulary.Term]):
    """A blank spaCy zh pipeline segmented by jieba, with an EntityRuler for `terms`."""
    import spacy
    from spacy.pipeline import EntityRuler

    vocabulary.add_words_to_jieba(terms)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    # add_pipe is typed as returning any pipe; "entity_ruler" makes an EntityRuler
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}))
    ruler.add_patterns(vocabulary.ruler_patterns(terms))
    return nlp


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputGuard(_Untrained):
    """Last in the pipeline: labels meaningless input `send_gibberish`.

    Input without any meaning (empty, emoji or punctuation only) gets that intent with
    certainty, whatever the classifier guessed, so it gets a polite reply instead of a
    random intent or silence. A message that is only an identifier ("202611010001",
    "尾号1234") is `inform` with certainty: bare numbers are too varied to learn.

    A message with a threat (差评, 12315, 曝光 ...) or fury (anger 3 on the complaint
    scorer) is a complaint whatever else it asks: it goes to `file_complaint`, keeping the
    classifier's guess in the ranking. Plain annoyance keeps its intent (a late parcel is
    still chased); the anger slot counts it towards escalation.

    A message that names a problem (`dianxiaoer.shop.problems`: 少寄, 烂了, 显示签收但没
    收到 …) but was read as small talk or a question about the assistant ("你们自己漏发了
    一件") is the problem's intent: the order journey acknowledges it and asks for the order.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        """Override the intent of meaningless, identifier-only and furious messages."""
        for message in messages:
            _prefer_order_numbers(message)
            info = message.get(INPUT_KEY) or {}
            text = message.get(TEXT) or ""
            if info.get("meaningful") is False or not text.strip():
                self._set(message, GIBBERISH_INTENT)
                message.set(ENTITIES, [], add_to_output=True)
            elif is_bare_identifier(text, message.get(ENTITIES) or []):
                self._set(message, INFORM_INTENT)
            elif text.startswith("/"):
                continue  # a button payload says what it is
            elif is_training_request(message.get(INTENT) or {}):
                continue  # "模拟一个要给差评的顾客" asks for practice, it is no threat
            elif is_heated_complaint(info.get("original") or text):
                self._promote(message, COMPLAINT_INTENT)
            elif name := problem_intent(message.get(INTENT) or {}, text):
                self._promote(message, name)
        return messages

    @staticmethod
    def _promote(message: Message, name: str) -> None:
        """`name` with certainty, the classifier's ranking kept after it."""
        intent = {"name": name, "confidence": 1.0}
        ranking = message.get(INTENT_RANKING_KEY) or []
        message.set(INTENT, intent, add_to_output=True)
        message.set(
            INTENT_RANKING_KEY,
            [intent, *[r for r in ranking if r.get("name") != name]],
            add_to_output=True,
        )

    @staticmethod
    def _set(message: Message, name: str) -> None:
        intent = {"name": name, "confidence": 1.0}
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)


def _prefer_order_numbers(message: Message) -> None:
    """One reading of a code: where an order number is also read as a tracking number.

    A shop's order numbers may look like tracking numbers (QH20261201001 matches both
    regexes); the shop's own format (orders.id_pattern) wins.
    """
    entities = message.get(ENTITIES) or []
    orders = {(e["start"], e["end"]) for e in entities if e.get("entity") == "order_id"}
    if not orders:
        return
    kept = [
        e
        for e in entities
        if not (e.get("entity") == "tracking_number" and (e["start"], e["end"]) in orders)
    ]
    if len(kept) != len(entities):
        message.set(ENTITIES, kept, add_to_output=True)


COMPLAINT_INTENT = "file_complaint"
#: Intents a problem report is misread as (an "OK", a greeting, "你能干啥"); the fallback
#: action looks for problems itself.
NOT_A_PROBLEM = frozenset({"affirm", "greet", "ask_capabilities", "out_of_scope"})
#: The intent that opens each order journey of `dianxiaoer.shop.problems.TOPIC`.
PROBLEM_INTENTS = {
    "quality": "report_quality_problem",
    "urge": "urge_delivery",
    "status": "check_order_status",
    "payment": "report_payment_failure",
}


def problem_intent(intent: dict[str, Any], text: str) -> str | None:
    """The intent of a problem report the classifier took for small talk, else None."""
    if intent.get("name") not in NOT_A_PROBLEM:
        return None
    from dianxiaoer.shop import problems

    kind = problems.problem_kind(text)
    return PROBLEM_INTENTS.get(problems.TOPIC[kind]) if kind else None


#: Staff training requests mention complaints and threats without making them.
TRAINING_INTENTS = frozenset({"start_training", "start_quiz", "start_roleplay", "stop_training"})


def is_training_request(intent: dict[str, Any]) -> bool:
    """A confident training intent (a furious customer is never one by a small margin)."""
    return intent.get("name") in TRAINING_INTENTS and (intent.get("confidence") or 0) >= 0.7


def is_heated_complaint(text: str) -> bool:
    """A threat, or anger at the top of the scale, by the complaint scorer.

    Pass the original text: normalization folds the "！！" runs the scorer counts.
    """
    from dianxiaoer.shop.complaints import assess

    assessment = assess(text)
    return assessment.threat or assessment.anger >= 3


def is_bare_identifier(text: str, entities: list[dict[str, Any]]) -> bool:
    """Tell whether the text is nothing but identifiers and their labels.

    Identifiers are order numbers, phone tails and tracking numbers; such a message answers
    "请提供订单号", whatever the classifier says.
    """
    spans = [(e["start"], e["end"]) for e in entities if e.get("entity") in ID_ENTITIES]
    if not spans:
        return False
    rest = "".join(char for i, char in enumerate(text) if not any(s <= i < e for s, e in spans))
    return not _ID_LABELS.sub("", rest)
