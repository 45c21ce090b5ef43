"""The payments deadline settings: read from the environment, documented defaults, and a
budget that cannot come near gunicorn's worker timeout."""
import pytest

from market.config import ConfigError, load_config


def test_defaults_keep_the_payments_budget_well_below_the_worker_timeout():
    config = load_config({})
    assert config["STRIPE_CALL_BUDGET"] == 8.0 and config["GUNICORN_TIMEOUT"] == 30
    assert config["STRIPE_CALL_BUDGET"] * 2 <= config["GUNICORN_TIMEOUT"]
    assert config["MAX_UNPAID_ORDERS_PER_BUYER"] == 3 and config["MAX_UNPAID_UNITS_PER_PRODUCT"] == 10
    assert config["CHECKOUT_RATE_LIMIT"] == "20 per hour" and config["RESERVATION_TTL_MINUTES"] == 30


@pytest.mark.parametrize("env", [{"STRIPE_CALL_BUDGET": "0"}, {"STRIPE_CALL_BUDGET": "20"},
                                 {"STRIPE_CALL_BUDGET": "8", "GUNICORN_TIMEOUT": "10"},
                                 {"STRIPE_CALL_BUDGET": "soon"}])
def test_a_budget_that_could_hold_a_worker_too_long_is_refused_naming_the_variable(env):
    with pytest.raises(ConfigError, match="STRIPE_CALL_BUDGET"):
        load_config(env)


def test_the_limits_are_read_from_the_environment():
    config = load_config({"STRIPE_CALL_BUDGET": "4.5", "MAX_UNPAID_ORDERS_PER_BUYER": "0",
                          "CHECKOUT_RATE_LIMIT": "5 per minute", "GUNICORN_TIMEOUT": "60"})
    assert config["STRIPE_CALL_BUDGET"] == 4.5 and config["MAX_UNPAID_ORDERS_PER_BUYER"] == 0
    assert config["CHECKOUT_RATE_LIMIT"] == "5 per minute" and config["GUNICORN_TIMEOUT"] == 60
