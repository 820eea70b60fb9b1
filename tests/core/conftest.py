import pytest
import yaml
from helpers import REPO


@pytest.fixture
def production():
    """workflow_config.yaml as loaded, not yet validated (each test plants its fault)."""
    return yaml.safe_load((REPO / "workflow_config.yaml").read_text())
