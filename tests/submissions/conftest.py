import pytest

from tests.submissions.world import build_world


@pytest.fixture
def world(app):
    return build_world(app)
