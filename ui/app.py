"""The Gradio app: Chat (streamed, cited answers, exported as Markdown or JSON), Corpus, Evaluation,
and an `ask` API endpoint that holds conversations by id.

Each browser session has its own `ChatState` (gr.State), so two tabs never share a conversation;
each API conversation has its own id and lock (`Library.conversations`). The UI uses the library
only through its face (`rag.pipeline`) and the shared shapes (`rag.schema`).
"""

from __future__ import annotations

import html
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr

from rag.pipeline import (MODES, SUPPORTED_SUFFIXES, BuildReport, Conversation, Library, RagError, Settings,
                          UploadRefused, check_question, one_line, save_transcript)
from rag.schema import Answer, Citation
from ui import render


@dataclass
class ChatState:
    """One browser session's conversation and every citation shown in it."""

    conversation: Conversation = field(default_factory=Conversation)
    citations: dict[int, Citation] = field(default_factory=dict)


def _stream(library: Library, message: str, history: list, state: ChatState, mode: str, k: int, show: bool):
    """Yield (history, sources, state) while the answer streams, then with the final cited answer."""
    history = history + [{"role": "user", "content": html.escape(message)}, {"role": "assistant", "content": ""}]
    text = ""
    for item in library.ask_stream(message, state.conversation, mode, k=int(k)):
        if isinstance(item, Answer):
            state.citations.update({c.id: c for c in item.citations})
            history[-1]["content"] = render.answer_html(item)
            yield history, render.sources_html(sorted(state.citations.values(), key=lambda c: c.id), item, show), state
        else:
            text += item
            history[-1]["content"] = html.escape(text)
            yield history, gr.skip(), state


def make_respond(library: Library):
    """The chat handler, bound to the shared library."""

    def respond(message: str, history: list, state: ChatState | None, mode: str, k: int, show: bool):
        state = state or ChatState()
        try:
            check_question(message, library.settings)
            yield from _stream(library, message, history, state, mode, k, show)
        except RagError as exc:
            gr.Warning(str(exc))
            yield history, gr.skip(), state

    return respond


def make_api(library: Library):
    """The `ask` endpoint: the same JSON as `rag ask --json`, within a conversation the server keeps.

    Without a conversation_id a new conversation starts; the answer's `conversation_id` continues
    it, so follow-ups are resolved and citation numbers stay the same across its turns. Ids are
    random and each conversation has its own lock, so clients never see or disturb each other's."""

    def ask(question: str, mode: str = "extractive", k: int = 5, conversation_id: str = "") -> dict:
        try:
            return library.ask(question, mode, int(k), conversation_id).model_dump()
        except RagError as exc:
            return {"question": question, "conversation_id": conversation_id or None, "error": str(exc)}

    return ask


def chat_tab(library: Library) -> None:
    """Chat, settings and the sources panel."""
    state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label="Conversation", height=520, elem_id="chat", sanitize_html=True)
            with gr.Row():
                box = gr.Textbox(placeholder="Ask about the articles…", show_label=False, scale=5, elem_id="question",
                                 max_length=library.settings.retrieval.max_question_chars)
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
        with gr.Column(scale=2):
            mode = gr.Dropdown(MODES, value=library.settings.answer.mode, label="Generator")
            k = gr.Slider(1, 10, value=library.settings.retrieval.top_k, step=1, label="Passages")
            show = gr.Checkbox(value=True, label="Show retrieved passages")
            sources = gr.HTML(render.sources_html([], None, True), elem_id="sources")
            with gr.Row():
                as_markdown = gr.Button("Export Markdown", size="sm", elem_id="export-md")
                as_json = gr.Button("Export JSON", size="sm", elem_id="export-json")
            exported = gr.File(label="Exported conversation", visible=False, elem_id="exported")
    respond = make_respond(library)
    for trigger in (send.click, box.submit):
        trigger(respond, [box, chatbot, state, mode, k, show], [chatbot, sources, state], api_name=False).then(
            lambda: "", None, box, api_name=False)
    as_markdown.click(lambda st: export(st, ".md"), state, exported, api_name=False)
    as_json.click(lambda st: export(st, ".json"), state, exported, api_name=False)


def export(state: ChatState | None, suffix: str):
    """The session's conversation as a file to download (Markdown or JSON, with citations and quotes)."""
    if state is None or not state.conversation.answers:
        gr.Warning("Ask a question first: there is no conversation to export yet.")
        return gr.update(visible=False)
    folder = Path(tempfile.mkdtemp(prefix="rag-export-"))
    path = save_transcript(state.conversation, folder / f"conversation-{state.conversation.id[:8]}{suffix}")
    return gr.update(value=str(path), visible=True)


def corpus_tab(library: Library) -> tuple:
    """Indexed articles; add by upload, remove, re-index."""
    table = gr.Dataframe(headers=["source", "title", "publisher", "date", "chunks", "addressed to an AI"],
                         label="Indexed articles",
                         interactive=False)
    status = gr.Markdown()
    with gr.Row():
        upload = gr.File(file_count="multiple", file_types=list(SUPPORTED_SUFFIXES), label="Add articles",
                         elem_id="upload")
        with gr.Column():
            add = gr.Button("Add and re-index")
            which = gr.Dropdown([], label="Article to remove")
            remove = gr.Button("Remove and re-index", variant="stop")

    def refresh():
        rows = library.articles()
        return rows, gr.update(choices=[r[0] for r in rows])

    def act(action):
        try:
            message = action()
        except (UploadRefused, RagError) as exc:
            return f"**Refused:** {html.escape(str(exc))}", *refresh()
        return message, *refresh()

    def on_add(files, progress=gr.Progress(track_tqdm=True)):  # the progress bar follows the build's tqdm
        return act(lambda: _add(library, files))

    def on_remove(source, progress=gr.Progress(track_tqdm=True)):
        return act(lambda: _remove(library, source))

    add.click(on_add, upload, [status, table, which], api_name=False)
    remove.click(on_remove, which, [status, table, which], api_name=False)
    return refresh, table, which


def _add(library: Library, files) -> str:
    if not files:
        raise UploadRefused("choose one or more .txt, .md or .html files first")
    names = library.add_articles([getattr(f, "name", f) for f in files])
    return f"Added {', '.join(names)}. " + reindexed(library.reindex())


def _remove(library: Library, source: str | None) -> str:
    if not source:
        raise UploadRefused("choose an article to remove")
    library.remove_article(source)
    return f"Removed {source}. " + reindexed(library.reindex())


def reindexed(report: BuildReport) -> str:
    """What re-indexing did, as the Corpus tab says it."""
    skipped = f"; skipped {', '.join(report.skipped)}" if report.skipped else ""
    flagged = (f" {len(report.addressed)} carry sentences addressed to an AI, kept but never used as evidence "
               f"(p: how sure the detector is; it flags from {report.threshold:.2f}):" if report.addressed else "")
    lines = [f"\n- {html.escape(source)}: " + "; ".join(_quoted(text, p) for text, p in found[:3])
             + (f"; and {len(found) - 3} more" if len(found) > 3 else "")
             for source, found in report.flagged.items()]
    return (f"Indexed {report.files} articles ({report.chunks} chunks, {report.added} new, {report.removed} removed)"
            f"{skipped}.{flagged}" + "".join(lines))


def _quoted(text: str, probability: float) -> str:
    return f"p={probability:.2f} “{html.escape(one_line(text, 120))}”"


def eval_tab(library: Library, qa: Path) -> None:
    """Run the evaluation set (extractive) or show the last report."""
    out = library.settings.index.data_dir / "eval"
    run = gr.Button("Run the evaluation set (extractive mode)")
    report = gr.Markdown(_last_report(out))
    with gr.Row():
        images = [gr.Image(label=name, type="filepath", value=_image(out, name))
                  for name in ("accuracy_by_kind.png", "latency.png", "evidence_scores.png")]

    def go(progress=gr.Progress(track_tqdm=True)):
        library.evaluate(qa, out, ["extractive"])
        return _last_report(out), *[_image(out, i.label) for i in images]

    run.click(go, None, [report, *images], api_name=False)


def _last_report(out: Path) -> str:
    path = out / "report.md"
    return path.read_text() if path.exists() else "No evaluation has been run yet."


def _image(out: Path, name: str) -> str | None:
    path = out / name
    return str(path) if path.exists() else None


LOADING = ("**Loading the index and the models…** Questions asked now are answered as soon as loading is done "
           "(usually under a minute).")


def loading_banner(app: gr.Blocks, library: Library) -> None:
    """A line that says the server is still loading, checked on page load and every second until
    it is ready."""
    banner = gr.Markdown(LOADING, visible=not library.ready.is_set(), elem_id="loading")
    timer = gr.Timer(1.0, active=not library.ready.is_set())

    def check():
        ready = library.ready.is_set()
        return gr.update(visible=not ready), gr.Timer(active=not ready)

    for trigger in (app.load, timer.tick):
        trigger(check, None, [banner, timer], api_name=False, queue=False)


def build_app(settings: Settings, qa: Path = Path("eval/qa.jsonl")) -> gr.Blocks:
    """The whole app over one index."""
    library = Library(settings)
    with gr.Blocks(title="Cited answers over the news") as app:
        gr.Markdown("## Cited answers over the news\nEvery sentence is checked against the article it cites; "
                    "click a [n] marker to read the quote in its article.")
        loading_banner(app, library)
        with gr.Tab("Chat"):
            chat_tab(library)
        with gr.Tab("Corpus"):
            refresh, table, which = corpus_tab(library)
        with gr.Tab("Evaluation"):
            eval_tab(library, qa)
        app.load(refresh, None, [table, which], api_name=False)
        gr.api(make_api(library), api_name="ask")
    app.library = library
    return app
