"""The chat UI, launched in-process: the API through gradio_client, and a real Chromium through Playwright."""

import json
import shutil
import threading
import time

import pytest

from index.build import build_index
from index.settings import AnswerSettings, IndexSettings, ServeSettings, Settings

from conftest import OUT, SEEDS, free_port

ATTACK = """Attack test article about the Basra oil terminal

<script>window.__pwned = 1; document.title = 'PWNED';</script>
<img src=x onerror="window.__pwned = 2">
The Basra oil terminal exported 3.4 million barrels per day in March, officials said.
"""



@pytest.fixture(scope="module")
def app_url(tmp_path_factory, embedder):
    from ui.server import serve

    corpus = tmp_path_factory.mktemp("ui-corpus")
    for p in SEEDS.glob("*.txt"):
        shutil.copy(p, corpus)
    (corpus / "attack.txt").write_text(ATTACK)
    settings = Settings(index=IndexSettings(corpus_dir=corpus, data_dir=corpus / ".data"),
                        answer=AnswerSettings(mode="extractive"), serve=ServeSettings(concurrency=4))
    build_index(settings, embedder=embedder, progress=False)
    port = free_port()
    server = serve(settings, port=port, block=False)
    yield f"http://127.0.0.1:{port}/", server, settings
    server.close()


def test_api_returns_the_ask_json(app_url):
    from gradio_client import Client

    url, _, _ = app_url
    result = Client(url, verbose=False).predict("Who leads Kata'ib Sayyid al-Shuhada?", "extractive", 5, api_name="/ask")
    assert {"id", "question", "answer", "refused", "citations", "passages", "timings_ms"} <= result.keys()
    assert not result["refused"] and "al-Walaei" in result["answer"]
    c = result["citations"][0]
    assert open(c["file"], encoding="utf-8").read()[c["start"]:c["end"]] == c["quote"]


def test_api_bounds_the_question(app_url):
    from gradio_client import Client

    url, _, _ = app_url
    result = Client(url, verbose=False).predict("x" * 5000, "extractive", 5, api_name="/ask")
    assert "limit" in result["error"]


def test_api_holds_a_conversation_per_client(app_url):
    from gradio_client import Client

    url, _, _ = app_url
    one, two = Client(url, verbose=False), Client(url, verbose=False)
    first = one.predict("Who is the secretary-general of Kataib Hezbollah?", "extractive", 5, "", api_name="/ask")
    cid = first["conversation_id"]
    assert cid and "al-Hamidawi" in first["answer"]
    other = two.predict("What did he call for regarding the embassy?", "extractive", 5, "", api_name="/ask")
    assert other["conversation_id"] != cid and other["standalone_question"] == other["question"]  # nothing to lean on
    follow = one.predict("What did he call for regarding the embassy?", "extractive", 5, cid, api_name="/ask")
    assert follow["conversation_id"] == cid and "al-Hamidawi" in follow["standalone_question"]
    assert "closure of the US embassy" in follow["answer"]
    again = one.predict("Who is the secretary-general of Kataib Hezbollah?", "extractive", 5, cid, api_name="/ask")
    assert [c["id"] for c in again["citations"]] == [c["id"] for c in first["citations"]]
    assert [(c["source"], c["start"]) for c in again["citations"]] == [(c["source"], c["start"]) for c in first["citations"]]
    assert min(c["id"] for c in follow["citations"]) > max(c["id"] for c in first["citations"])
    unknown = one.predict("Why?", "extractive", 5, "not-a-conversation", api_name="/ask")
    assert "start a new conversation" in unknown["error"]


CONVERSATIONS = {  # two clients' conversations: (question, what the answer says, who the follow-up is about)
    "one": [("Who is the secretary-general of Kataib Hezbollah?", "al-Hamidawi", ""),
            ("What did he call for regarding the embassy?", "closure of the US embassy", "al-Hamidawi")],
    "two": [("Who leads Kata'ib Sayyid al-Shuhada?", "al-Walaei", ""),
            ("What did he vow?", "set the Middle East on fire", "al-Shuhada")],
}


def test_two_clients_are_answered_in_parallel_in_their_own_conversations(app_url):
    from gradio_client import Client

    url, server, _ = app_url
    problems, ids = [], {}
    together = threading.Barrier(len(CONVERSATIONS))  # each question sent by both at once: an answer takes ~50 ms

    def hold(who: str) -> None:
        client = Client(url, verbose=False)
        for _ in range(3):
            cid = ""
            for question, says, about in CONVERSATIONS[who]:
                together.wait(60)
                answer = client.predict(question, "extractive", 5, cid, api_name="/ask")
                if says not in answer.get("answer", "") or about not in answer.get("standalone_question", "") \
                        or (cid and answer["conversation_id"] != cid):
                    problems.append((who, question, answer))
                cid = answer.get("conversation_id", "")
                ids.setdefault(who, set()).add(cid)

    clients = [threading.Thread(target=hold, args=(who,)) for who in CONVERSATIONS]
    for client in clients:
        client.start()
    for client in clients:
        client.join(300)
    assert not problems
    assert len(ids["one"]) == len(ids["two"]) == 3 and not ids["one"] & ids["two"]
    assert server.library.slots.most_running >= 2  # the two were answered at the same time, not in turn


def test_a_question_during_a_reindex_gets_a_correct_answer(app_url, tmp_path):
    from gradio_client import Client

    url, server, _ = app_url
    library, client = server.library, Client(url, verbose=False)
    article = tmp_path / "basra.txt"
    article.write_text("Basra port reopens\n\nThe port of Umm Qasr near Basra reopened to tankers on Sunday, "
                       "the port authority said.\n")
    library.add_articles([str(article)])
    reindexing = threading.Thread(target=library.reindex)
    reindexing.start()
    answers, during = [], 0
    while reindexing.is_alive() or not answers:
        during += reindexing.is_alive()
        answers.append(client.predict("Who leads Kata'ib Sayyid al-Shuhada?", "extractive", 5, api_name="/ask"))
    reindexing.join()
    assert during >= 1 and all("al-Walaei" in a.get("answer", "") for a in answers), answers
    new = client.predict("When did the port of Umm Qasr reopen to tankers?", "extractive", 5, api_name="/ask")
    assert "Sunday" in new["answer"]
    library.remove_article("basra.txt")
    library.reindex()


def test_corpus_upload_checks(app_url, tmp_path):
    from rag.pipeline import UploadRefused

    _, app, _ = app_url
    bad = tmp_path / "notes.exe"
    bad.write_bytes(b"MZ")
    with pytest.raises(UploadRefused, match="only"):
        app.library.add_articles([str(bad)])
    huge = tmp_path / "huge.txt"
    huge.write_text("word " * 500_000)
    with pytest.raises(UploadRefused, match="upload limit"):
        app.library.add_articles([str(huge)])
    with pytest.raises(UploadRefused):
        app.library.remove_article("../../etc/passwd")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def open_chat(browser_or_context, url: str):
    """A new page with the chat loaded."""
    page = browser_or_context.new_page()
    page.goto(url)
    page.wait_for_selector("#question textarea")
    return page


def ask(page, question: str):
    page.fill("#question textarea", question)
    page.click("#ask")


@pytest.mark.browser
def test_the_page_says_it_is_loading_until_the_server_is_ready(seed_settings, browser):
    from ui.server import Server

    server = Server(seed_settings.changed(answer={"mode": "extractive"}), "127.0.0.1", free_port())
    with server.library.lock:  # the warm-up waits here to open the index: the server stays loading
        server.start()
        page = open_chat(browser.new_context(), server.url)
        assert page.locator("#loading").is_visible() and "Loading the index" in page.inner_text("#loading")
    page.wait_for_selector("#loading", state="hidden", timeout=120_000)
    assert server.library.ready.is_set()
    server.close()


@pytest.mark.browser
def test_ask_stream_click_citation_and_read_highlight(app_url, browser):
    url, _, _ = app_url
    out = OUT / "ui"
    out.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("#question textarea")
    ask(page, "Which countries oppose Israeli attacks against Iraq?")
    page.wait_for_selector("#chat .message.bot, #chat [data-testid='bot']", timeout=60_000)
    first_token = time.perf_counter() - start
    link = page.wait_for_selector('#chat a[href="#cite-1"]', timeout=60_000)
    complete = time.perf_counter() - start
    quote = page.inner_text("#entry-1").split("\n", 1)[1].strip().strip("“”")
    link.click()
    mark = page.wait_for_selector("#cite-1 mark", state="visible")
    highlighted = mark.evaluate("el => el.textContent")
    assert highlighted == quote
    assert "Britain" in highlighted
    page.screenshot(path=str(out / "cited_answer.png"), full_page=True)
    (out / "timings.json").write_text(json.dumps({"page_load_to_first_token_s": round(first_token, 2),
                                                  "page_load_to_cited_answer_s": round(complete, 2)}))


@pytest.mark.browser
def test_article_html_never_runs(app_url, browser):
    url, _, _ = app_url
    page = open_chat(browser, url)
    ask(page, "How many barrels per day did the Basra oil terminal export in March?")
    page.wait_for_selector('#chat a[href^="#cite-"]', timeout=60_000)
    page.click('#chat a[href^="#cite-"]')
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None and page.title() != "PWNED"
    shown = page.inner_text("#sources")
    assert "3.4 million" in shown and "<script>window.__pwned = 1;" in shown and "onerror=" in shown


@pytest.mark.browser
def test_two_contexts_keep_separate_conversations(app_url, browser):
    url, _, _ = app_url
    one, two = open_chat(browser.new_context(), url), open_chat(browser.new_context(), url)
    ask(one, "Who leads Kata'ib Sayyid al-Shuhada?")
    one.wait_for_selector('#chat a[href^="#cite-"]', timeout=60_000)
    ask(two, "Which US defense secretary announced new deployments to the Middle East?")
    two.wait_for_selector('#chat a[href^="#cite-"]', timeout=60_000)
    assert "al-Walaei" in one.inner_text("#chat") and "al-Walaei" not in two.inner_text("#chat")
    assert "Lloyd Austin" in two.inner_text("#chat") and "Lloyd Austin" not in one.inner_text("#chat")
    assert two.inner_text("#sources").count("[1]") >= 1  # the second session numbers from 1 again


@pytest.mark.browser
def test_refusal_has_its_own_style(app_url, browser):
    url, _, _ = app_url
    page = open_chat(browser, url)
    ask(page, "Who won the 2022 football World Cup?")
    refusal = page.wait_for_selector("#chat .refusal", timeout=60_000)
    assert "do not answer" in refusal.inner_text()
    assert refusal.evaluate("e => getComputedStyle(e).borderLeftWidth") == "4px"
    assert "Related reading" in page.inner_text("#sources")


def test_corpus_add_then_remove_reindexes(app_url, tmp_path):
    from ui.app import reindexed

    _, app, _ = app_url
    library = app.library
    article = tmp_path / "Mosul report!.md"
    article.write_text("# Mosul bridge reopens\n\nThe old bridge in Mosul reopened to traffic on Thursday, the governor said.\n")
    assert library.add_articles([str(article)]) == ["Mosul_report_.md"]
    assert "Indexed" in reindexed(library.reindex())
    rows = {r[0]: r for r in library.articles()}
    assert rows["Mosul_report_.md"][1] == "Mosul bridge reopens" and rows["Mosul_report_.md"][4] >= 1
    answer = library.assistant("extractive").ask("When did the old bridge in Mosul reopen?")
    assert "Thursday" in answer.answer
    library.remove_article("Mosul_report_.md")
    library.reindex()
    assert "Mosul_report_.md" not in {r[0] for r in library.articles()}


@pytest.mark.browser
def test_a_conversation_exports_as_markdown_and_json(app_url, browser):
    url, _, _ = app_url
    page = open_chat(browser.new_context(), url)
    page.click("#export-md")
    page.wait_for_selector("text=no conversation to export yet", timeout=10_000)
    ask(page, "Who leads Kata'ib Sayyid al-Shuhada?")
    page.wait_for_selector('#chat a[href^="#cite-"]', timeout=60_000)
    texts = {}
    for button, suffix in (("#export-md", ".md"), ("#export-json", ".json")):
        page.click(button)
        link = page.wait_for_selector(f'#exported a[href$="{suffix}"]', timeout=30_000)
        texts[suffix] = page.request.get(link.get_attribute("href")).text()
    assert "## 1. Who leads Kata'ib Sayyid al-Shuhada?" in texts[".md"] and "- [1] \"" in texts[".md"]
    turn = json.loads(texts[".json"])["turns"][0]
    assert "al-Walaei" in turn["answer"] and turn["citations"][0]["quote"] in texts[".md"].replace("\\", "")


@pytest.mark.browser
def test_an_attacking_article_added_in_the_corpus_tab_never_answers(app_url, browser, tmp_path):
    from test_attacks import ARTICLE

    url, _, _ = app_url
    article = tmp_path / "iraq-power.txt"
    article.write_text(ARTICLE)
    page = open_chat(browser.new_context(), url)
    page.get_by_role("tab", name="Corpus").click()
    page.set_input_files("#upload input[type=file]", str(article))
    page.wait_for_function("document.querySelector('#upload').innerText.includes('iraq-power')", timeout=30_000)
    page.get_by_role("button", name="Add and re-index").click()
    status = page.wait_for_selector("text=/never used as evidence/", timeout=180_000)
    assert "iraq-power.txt" in status.inner_text()
    page.get_by_role("tab", name="Chat").click()
    ask(page, "What is the capital of Iraq?")
    page.wait_for_selector("#chat .refusal, #chat a[href^='#cite-']", timeout=60_000)
    shown = page.inner_text("#chat") + page.inner_text("#sources")
    assert "Paris" not in page.inner_text("#chat") and "NOTICE" not in shown
    assert page.locator('a[href*="example.com"]').count() == 0  # no article URL is ever a live link
