"""Built-in form validation messages are Polish too (WTForms' own catalog is incomplete)."""


def test_wtforms_time_message_is_polish(owner_client):
    resp = owner_client.post("/tasks/add", data={"title": "Zadzwonić", "due_date": "2030-01-01", "due_time": "25:99"})
    assert resp.status_code == 200
    assert "Not a valid" not in resp.text
    assert "Nieprawidłowa godzina." in resp.text
