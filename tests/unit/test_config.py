"""Configuration is read when the app is created, validated, and production refuses to start
with any public development default."""
from __future__ import annotations

import pytest

from market import create_app
from market.config import PRODUCTION_SECRETS, ConfigError, load_config

PRODUCTION = {
    "MARKET_ENV": "production",
    "SECRET_KEY": "a-long-production-secret-0123456789",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_live_example",
    "STRIPE_API_BASE": "https://payments.example.cn",
    "MAIL_SERVER": "smtp.example.cn",
}


def test_environment_is_read_when_the_app_is_created(monkeypatch, tmp_path):
    # `market` is imported long before this: a variable set now must still be honoured
    # (what `make run` does with STRIPE_PORT).
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:8432")
    monkeypatch.setenv("CASE_OVERDUE_DAYS", "21")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    app = create_app()
    assert app.config["STRIPE_API_BASE"] == "http://127.0.0.1:8432"
    assert app.config["CASE_OVERDUE_DAYS"] == 21
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'market.db'}"


def test_a_passed_mapping_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("CASE_OVERDUE_DAYS", "21")
    assert load_config(overrides={"CASE_OVERDUE_DAYS": 3})["CASE_OVERDUE_DAYS"] == 3


@pytest.mark.parametrize("name, value", [("MAIL_PORT", "twenty-five"), ("STRIPE_TIMEOUT", "soon"),
                                         ("MAIL_USE_TLS", "maybe"), ("MARKET_ENV", "staging")])
def test_malformed_settings_name_the_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        load_config({name: value})


def test_production_with_real_secrets_starts_with_secure_cookies():
    config = load_config(PRODUCTION)
    assert config["ENV_NAME"] == "production"
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("name", sorted(PRODUCTION_SECRETS))
def test_production_refuses_every_development_default(name):
    environ = {k: v for k, v in PRODUCTION.items() if k != name}  # left at its default
    with pytest.raises(ConfigError, match=name):
        load_config(environ)
    with pytest.raises(ConfigError, match=name):
        load_config({**environ, name: PRODUCTION_SECRETS[name]})  # or set to it explicitly


def test_production_refuses_to_start_without_a_mail_server():
    with pytest.raises(ConfigError, match="MAIL_SERVER"):
        load_config({**PRODUCTION, "MAIL_SERVER": ""})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config({**PRODUCTION, "SECRET_KEY": "x"})


def test_create_app_refuses_production_defaults(monkeypatch):
    monkeypatch.setenv("MARKET_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x")
    with pytest.raises(ConfigError):
        create_app()
