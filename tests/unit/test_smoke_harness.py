"""The suite really runs on PostgreSQL and a real Redis server."""

from sqlalchemy import text


def test_database_is_postgresql(db):
    assert db.engine.dialect.name == "postgresql"
    assert db.session.execute(text("SELECT version()")).scalar().startswith("PostgreSQL")


def test_redis_is_a_real_server(redis_client):
    info = redis_client.info("server")
    assert info["redis_version"]
    assert redis_client.ping() is True
