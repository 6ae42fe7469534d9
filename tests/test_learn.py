"""Learn page: a lesson with a LaTeX objective for every family, rendered by AppTest (and by KaTeX in a
real browser), and "Try it" buttons that open the Train page with the generator and its demo data."""
from __future__ import annotations

import re

import pytest

from synth_core.data import dataset_info
from synth_core.generators import list_generators
from synth_core.generators.base import FAMILY_ORDER
from synth_core.learn import LESSONS, demo_dataset, family_generators, lessons

from .e2e_support import ARGS, CHROMIUM, serve_app, sync_playwright_or_skip



def _balanced(tex: str) -> bool:
    """Braces and \\left/\\right, \\begin/\\end pairs balance (what KaTeX rejects first)."""
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):
        depth += (ch == "{") - (ch == "}")
        if depth < 0:
            return False
    return (depth == 0 and tex.count(r"\left") == tex.count(r"\right")
            and tex.count(r"\begin") == tex.count(r"\end"))


def test_every_registered_family_has_a_lesson_with_an_objective():
    families = {g.family for g in list_generators()}
    by_family = {l.family: l for l in LESSONS}
    for fam in families:
        lesson = by_family.get(fam)
        assert lesson is not None, f"no Learn entry for family {fam!r}"
        assert lesson.formulas and all(f.latex.strip() for f in lesson.formulas)
        assert all(_balanced(f.latex) for f in lesson.formulas), fam
        sentences = len(re.findall(r"[.!?](\s|$)", lesson.text))
        assert 3 <= sentences <= 8, (fam, sentences)
    assert [l.family for l in lessons()] == [f for f in FAMILY_ORDER if f in by_family]
    assert len({l.family for l in LESSONS}) == len(LESSONS)


def test_lessons_name_the_objectives_the_issue_asks_for():
    tex = {l.family: " ".join(f.latex for f in l.formulas) for l in LESSONS}
    assert r"\min_G \max_D" in tex["gan"] and r"\log D(G(z))" in tex["gan"]  # minimax + non-saturating
    assert r"\|\nabla_{\hat x} D(\hat x)\|_2 - 1" in tex["gan"]                 # WGAN-GP penalty
    assert r"D_{\mathrm{KL}}" in tex["vae"] and "x \\mid z, y" in tex["vae"]     # ELBO + CVAE
    assert r"\min\!\Big(1" in tex["mcmc"] and r"\nabla_x \log p(x)" in tex["mcmc"]  # MH + MALA
    assert r"\sqrt{\bar\alpha_t}" in tex["diffusion"] and r"\epsilon_\theta" in tex["diffusion"]
    assert r"\det" in tex["flow"] and r"\exp\big(s(x_{1:d})\big)" in tex["flow"]
    assert r"\Phi^{-1}" in tex["probabilistic"] and "r_{ik}" in tex["probabilistic"]


def test_demo_dataset_fits_every_generator():
    for gen in list_generators():
        ds = demo_dataset(gen)
        assert dataset_info(ds).kind in gen.supports, (gen.name, ds)


def test_learn_page_renders_a_latex_element_per_family(app):
    at = app.run()
    at.switch_page("pages/learn.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    shown = [el.value for el in at.latex]  # st.latex bodies ("$$ ... $$")
    assert len(at.latex) == sum(len(l.formulas) for l in LESSONS)
    for lesson in LESSONS:
        assert any(f.latex in s for f in lesson.formulas for s in shown), lesson.family
    assert {b.key for b in at.button} >= {f"try_{g.name}" for g in list_generators()}
    assert [t.label for t in at.tabs] == [l.title for l in lessons()]


def test_try_it_sets_generator_and_dataset_and_opens_train(app):
    at = app.run()
    at.switch_page("pages/train.py").run()  # leave a stale Train selection behind (dcgan on mnist)
    assert at.selectbox(key="train_gen_select").value == "dcgan"
    at.switch_page("pages/learn.py").run()
    at.button(key="try_wgan_gp").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["train_gen"] == "wgan_gp"
    assert at.session_state["dataset"] == demo_dataset(family_generators("gan")[-1]) == "ring8"
    assert [t.value for t in at.title] == ["Train"]
    assert at.selectbox(key="train_gen_select").value == "wgan_gp"


# ---- KaTeX itself: the only check that the browser accepts every formula ---------------------------
@pytest.mark.e2e
@pytest.mark.slow
def test_every_formula_renders_in_katex(tmp_path):
    sync_playwright = sync_playwright_or_skip(module_level=False)
    with serve_app(tmp_path) as (url, _proc), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2000})
        page.goto(url)
        page.get_by_role("link", name="Learn").click()
        n = sum(len(l.formulas) for l in LESSONS)
        page.wait_for_function(f"document.querySelectorAll('.katex-display').length >= {n}", timeout=90_000)
        assert page.locator(".katex-error").count() == 0
        browser.close()
