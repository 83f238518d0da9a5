"""The page-reading helpers of tests/helpers.py read a page the way a browser and a user do."""

import pytest

from tests.helpers import (
    csrf_token,
    field_values,
    form_fields,
    link,
    links,
    option_labels,
    option_values,
    selected_values,
    table_rows,
    text,
    texts,
    visible_text,
)

PAGE = """<!doctype html><html><head><title>Head title</title><script>var label = "Edit";</script></head>
<body><!-- a comment -->
<form method="post" action="/logout/"><input type="hidden" name="csrf_token" value="tok&amp;1"></form>
<form id="doc" class="crm-builder">
  <input value='Jan' name=first_name aria-label="Imię">
  <input name="qty" value="1"><input name="qty" value="2">
  <input type="checkbox" name="vip" value="y"><input type="checkbox" name="active" value="y" checked>
  <select name="kind"><option value="company">Firma</option><option selected value="person">Osoba</option></select>
  <textarea name="notes">Pierwsza
linia</textarea>
  <template><input name="qty" value="9"></template>
</form>
<table id="bases"><thead><tr><th>Nazwa</th><th>Kontakty</th></tr></thead>
<tbody><tr><td><a href="/bases/1?a=1&amp;b=2">Alfa</a></td><td> 3 </td></tr></tbody></table>
<p title="Podpowiedź">Za<b>kład</b>ka</p><input type="hidden" name="secret" value="Delete">
</body></html>"""


def test_forms_are_read_as_a_browser_sends_them():
    assert csrf_token(PAGE) == "tok&1"  # the first form's, entities decoded
    assert form_fields(PAGE, "#doc") == {"first_name": "Jan", "qty": "1", "active": "y", "kind": "person",
                                         "notes": "Pierwsza\nlinia"}
    assert field_values(PAGE, "qty", "form.crm-builder") == ["1", "2"]  # not the <template> row
    assert option_values(PAGE, "kind") == ["company", "person"]
    assert option_labels(PAGE, "kind") == ["Firma", "Osoba"]
    assert selected_values(PAGE, "kind") == ["person"]


def test_text_links_and_tables():
    assert texts(PAGE, "p") == ["Zakładka"]
    assert text(PAGE, "#bases td a") == "Alfa"
    assert links(PAGE) == ["/bases/1?a=1&b=2"] and link(PAGE, "#bases a") == "/bases/1?a=1&b=2"
    assert table_rows(PAGE, "#bases") == [["Alfa", "3"]]


def test_visible_text_holds_what_a_user_can_read_only():
    shown = visible_text(PAGE)
    for word in ("Jan", "Imię", "Podpowiedź", "Osoba", "Nazwa", "Alfa"):
        assert word in shown, word
    for hidden in ("Head title", "Edit", "a comment", "Delete", "tok&1"):
        assert hidden not in shown, hidden
    assert "Alfa" not in visible_text(PAGE, drop=("#bases",))


def test_missing_elements_fail_with_a_clear_message():
    with pytest.raises(AssertionError, match="0 elements match '#nowhere'"):
        text(PAGE, "#nowhere")
    with pytest.raises(AssertionError, match="no CSRF token"):
        csrf_token("<html><body><form></form></body></html>")
    with pytest.raises(AssertionError, match="the page is empty"):
        texts("", "p")
