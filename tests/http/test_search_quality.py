"""Search quality on the judged fixture catalogue (tests/data): synonyms and typo tolerance
must find relevant products for more queries than the literal search did. Not a timing test."""
from bench import search_quality


def test_expanded_search_beats_the_literal_search_on_judged_queries(app, client):
    by_id = search_quality.load_into_database(search_quality.load_catalogue())
    queries = search_quality.load_queries()
    assert len(by_id) >= 150 and len(queries) >= 40
    app.config["SEARCH_VOCAB_SECONDS"] = 3600  # the catalogue is loaded: build the vocabulary once

    app.config["SEARCH_EXPANSION"] = False
    before = search_quality.evaluate(client, by_id, queries)
    app.config["SEARCH_EXPANSION"] = True
    after = search_quality.evaluate(client, by_id, queries)

    assert after.hits > before.hits, (before, after)
    assert after.recall > before.recall, (before, after)
    assert after.hits >= 0.9, after.missed
    # Exact words still work as before.
    exact = [q for q in queries if q.kind == "exact"]
    assert search_quality.evaluate(client, by_id, exact).hits == 1.0
