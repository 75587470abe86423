"""The one typed configuration: YAML keys, documentation and CLI flags come from here."""

from __future__ import annotations

from pydantic import Field, PrivateAttr

from taxolab.config.sections import ModelSettings, PathSettings, Section
from taxolab.documents.settings import DocumentSettings
from taxolab.evaluation.settings import EvaluateSettings
from taxolab.llm.chat_settings import ChatSettings
from taxolab.llm.settings import ClientSettings, ServeSettings
from taxolab.mixing.settings import MixSettings
from taxolab.sdg.settings import GenerateSettings
from taxolab.taxonomy.settings import TaxonomySettings
from taxolab.training.settings import TrainSettings
from taxolab.workflow.settings import RunSettings

CONFIG_VERSION = 1


class Config(Section):
    """taxolab configuration. Every key can also be set with TAXOLAB_<SECTION>__<KEY>."""

    version: int = Field(CONFIG_VERSION, description="Config file format version.")
    paths: PathSettings = Field(default_factory=PathSettings, description="Where taxolab keeps things.")
    models: ModelSettings = Field(default_factory=ModelSettings, description="Which models play which part.")
    taxonomy: TaxonomySettings = Field(default_factory=TaxonomySettings, description="Reading the taxonomy.")
    documents: DocumentSettings = Field(default_factory=DocumentSettings, description="Knowledge documents.")
    serve: ServeSettings = Field(default_factory=ServeSettings, description="Local model servers.")
    client: ClientSettings = Field(default_factory=ClientSettings, description="Requests to model servers.")
    generate: GenerateSettings = Field(default_factory=GenerateSettings, description="Synthetic data generation.")
    mix: MixSettings = Field(default_factory=MixSettings, description="Mixing generated rows into training sets.")
    train: TrainSettings = Field(default_factory=TrainSettings, description="Fine-tuning.")
    evaluate: EvaluateSettings = Field(default_factory=EvaluateSettings, description="Evaluation.")
    run: RunSettings = Field(default_factory=RunSettings, description="The end-to-end loop, `taxolab run`.")
    chat: ChatSettings = Field(default_factory=ChatSettings, description="`taxolab model chat`.")

    # The run profile laid over this config, stamped by ``workflow.profiles.load_run_config`` (not a key).
    _profile: str | None = PrivateAttr(None)

    @property
    def profile(self) -> str | None:
        """The name of the ``taxolab run`` profile this config carries, if it was built with one."""
        return self._profile
