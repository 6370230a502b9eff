def test_healthz_reports_database(client, db):
    resp = client.get("/healthz/")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok"}
