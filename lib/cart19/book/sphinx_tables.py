"""Sphinx extension: ``{glue:table}``, a glued DataFrame/Styler shown as a numbered *table*.

The book's tables (the paper's Tables 1-5 side by side, the scorecard and audit tables) are pandas
Styler HTML glued with myst-nb. myst-nb 1.x can caption a glued output only through
``{glue:figure}``, which numbers it as a *figure* ("Fig. 7"), and the docutils ``table`` directive
accepts only a parsed table, not raw HTML (jupyter-book issues #1585 and #1247 are open for
exactly this). So this module adds one directive to myst-nb's ``glue`` domain::

    ```{glue:table} table1
    :name: tbl-table1

    Patient characteristics, published beside reproduced.
    ```

It pastes the glued output unchanged (the Styler HTML) inside an enumerable node registered with
Sphinx under the figtype ``table`` (``Sphinx.add_enumerable_node``). Sphinx then numbers it in the
same sequence as ordinary tables ("Table 3", ``numfig_format['table']``), ``{numref}`` resolves to
it, and the caption sits *above* the table, as in a journal. Figures keep ``{glue:figure}``.

Why own code: no released myst-nb or jupyter-book 1.x feature captions a glued output as a table;
this is the smallest piece that does (one directive, one node, two HTML visitors).
"""
from __future__ import annotations

from docutils import nodes
from docutils.parsers.rst import directives as spec
from myst_nb.core.variables import RetrievalError, render_variable_outputs
from myst_nb.ext.glue.utils import glue_warning, retrieve_glue_data
from myst_nb.ext.utils import DirectiveBase

__all__ = ["glued_table", "table_caption", "GlueTableDirective", "setup"]


class glued_table(nodes.General, nodes.Element):  # noqa: N801 - docutils names nodes in lower case
    """A captioned table whose body is a glued notebook output (raw HTML, kept as is)."""


class table_caption(nodes.caption):  # noqa: N801
    """The caption of a :class:`glued_table` (a ``caption``, so Sphinx finds the numref title)."""


class GlueTableDirective(DirectiveBase):
    """``{glue:table} key``: paste glued output ``key`` as a numbered table with a caption.

    Options: ``name`` (the label for ``{numref}``; required, since a table without a label cannot
    be numbered or referenced) and ``class``. The content is the caption: one paragraph, required.
    """

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {"name": spec.unchanged_required, "class": spec.class_option}

    def run(self) -> list[nodes.Node]:
        if "name" not in self.options:
            return [glue_warning("glue:table needs a :name: (its numref label).",
                                 self.document, self.line)]
        if not self.content:
            return [glue_warning("glue:table needs a caption (its content).", self.document,
                                 self.line)]
        try:
            data = retrieve_glue_data(self.document, self.arguments[0])
        except RetrievalError as exc:
            return [glue_warning(str(exc), self.document, self.line)]

        table = glued_table("", classes=["cart19-table"] + self.options.get("class", []))
        self.set_source_info(table)
        self.add_name(table)  # registers the label on *this* node (numref looks it up by id)

        holder = nodes.Element()
        self.state.nested_parse(self.content, self.content_offset, holder)
        first = holder[0] if len(holder) else None
        if not isinstance(first, nodes.paragraph) or len(holder) > 1:
            return [glue_warning("glue:table caption must be a single paragraph.", self.document,
                                 self.line)]
        caption = table_caption(first.rawsource, "", *first.children)
        caption.source, caption.line = first.source, first.line
        table += caption
        table += render_variable_outputs([data], self.document, self.line, self.source)
        return [table]


# ----------------------------------------------------------------------------- HTML visitors
# <figure class="cart19-table" id="tbl-..." style="overflow-x: auto"><figcaption><p><span class="caption-number">Table 3
# </span><span class="caption-text">...</span><a class="headerlink">#</a></p></figcaption>
# ...the glued Styler HTML...</figure>. <figure>/<figcaption> get the theme's caption style.

def _visit_table_html(self, node: glued_table) -> None:
    # A wide table scrolls sideways inside its block instead of running under the page's side
    # panel (what myst-nb's cell-output wrapper does for a table shown by a code cell).
    self.body.append(self.starttag(node, "figure", style="overflow-x: auto"))


def _depart_table_html(self, node: glued_table) -> None:
    self.body.append("</figure>\n")


def _visit_caption_html(self, node: table_caption) -> None:
    self.body.append("<figcaption>\n" + self.starttag(node, "p", ""))
    self.add_fignumber(node.parent)  # "Table N " from numfig_format["table"]
    self.body.append(self.starttag(node, "span", "", CLASS="caption-text"))


def _depart_caption_html(self, node: table_caption) -> None:
    self.body.append("</span>")
    self.add_permalink_ref(node.parent, "Link to this table")
    self.body.append("</p>\n</figcaption>\n")


def _visit_plain(self, node) -> None:
    """Other builders (text, latex, ...): render the children as they come."""


def _depart_plain(self, node) -> None:
    pass


def setup(app) -> dict:
    app.setup_extension("myst_nb")  # the "glue" domain must exist before we add to it
    app.add_enumerable_node(glued_table, "table", html=(_visit_table_html, _depart_table_html),
                            text=(_visit_plain, _depart_plain))
    app.add_node(table_caption, html=(_visit_caption_html, _depart_caption_html),
                 text=(_visit_plain, _depart_plain))
    app.add_directive_to_domain("glue", "table", GlueTableDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
