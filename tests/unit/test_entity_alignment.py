"""Every annotated entity, in training and held-out data, lies on jieba token boundaries
after the project's normalizer and user dictionary: Rasa's own alignment check, run
through the real pipeline components, must not warn."""

import warnings
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.loading import load_data

from dianxiaoer.core.settings import PROJECT_ROOT
from dianxiaoer.knowledge.vocabulary import write_jieba_dictionary
from dianxiaoer.rasa_plugins.nlu_components import TextNormalizer


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("jieba")
    write_jieba_dictionary(tmp / "dict")
    config = {**JiebaTokenizer.get_default_config(), "dictionary_path": str(tmp / "dict")}
    return JiebaTokenizer.create(
        config,
        LocalModelStorage(tmp / "storage"),
        Resource("jieba"),
        ExecutionContext(GraphSchema({}), "test"),
    )


@pytest.mark.parametrize(
    "path", ["data/nlu", "tests/nlu/heldout.yml", "tests/nlu/heldout_colloquial.yml"]
)
def test_no_misaligned_entities(tokenizer, path):
    data = load_data(str(PROJECT_ROOT / path))
    assert data.entity_examples
    TextNormalizer({"max_chars": 300}).process_training_data(data)
    tokenizer.process_training_data(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EntityExtractorMixin.check_correct_entity_annotations(data)
    misaligned = [str(w.message)[:160] for w in caught if "Misaligned" in str(w.message)]
    assert misaligned == []
