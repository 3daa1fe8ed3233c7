"""The leak check itself must find a planted leak, in a notebook and in an HTML page."""

import nbformat

from coursekit.course import Course
from coursekit.modules import find
from coursekit.quality import leaks


def test_leak_check_finds_a_hidden_line_planted_in_a_release_copy(tmp_path):
    module = find("01_tensor")
    _, hidden = leaks.secret_lines(Course().source_notebook(module))
    planted = sorted(hidden)[0]
    nb = Course().release_notebook(module)
    nb.cells.append(nbformat.v4.new_code_cell("x = 1\n    " + planted + "\n"))
    nbformat.write(nb, tmp_path / module.notebook)
    found = leaks.leaks_in(tmp_path, hidden, "hidden test")
    assert found == [f"hidden test in {tmp_path / module.notebook}: {planted!r}"]


def test_leak_check_reads_html_text_through_tags_and_entities(tmp_path):
    secret = 'assert np.allclose(out.data, expected), "values"'
    page = (
        '<pre><span class="k">assert</span> np.allclose(out.data, expected), '
        "<span>&quot;values&quot;</span>\n</pre>"
    )
    (tmp_path / "feedback.html").write_text(page)
    assert len(leaks.leaks_in(tmp_path, {secret}, "hidden test")) == 1
    (tmp_path / "feedback.html").write_text("<pre>nothing secret here</pre>")
    assert leaks.leaks_in(tmp_path, {secret}, "hidden test") == []
