"""Text from pages and services: characters no database can store are refused in Chinese."""

import pytest
from django import forms

from pingan.core.errors import ServiceError
from pingan.core.forms import ChineseForm
from pingan.core.validation import clean_text


class NoteForm(ChineseForm):
    note = forms.CharField(label="备注", max_length=10)
    count = forms.IntegerField(label="人数", required=False)


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b", "\udfff"])
def test_form_refuses_nul_and_lone_surrogates_in_chinese(bad):
    form = NoteForm({"note": bad})
    assert not form.is_valid()
    assert form.messages() == ["备注含有无法保存的字符"]


def test_form_messages_are_chinese_and_named_after_the_label():
    form = NoteForm({"note": "", "count": "三"})
    assert not form.is_valid()
    assert form.messages() == ["请填写备注", "人数必须是数字"]
    assert NoteForm({"note": "x" * 11}).messages() == ["备注不能超过 10 字"]
    assert NoteForm({"note": "巡逻 😀"}).is_valid()  # astral characters are text


def test_service_error_lands_next_to_its_field():
    form = NoteForm({"note": "ok"})
    assert form.is_valid()
    form.service_error(ServiceError("note_bad", "备注不合规", details={"field": "note"}))
    assert form.errors["note"] == ["备注不合规"]


@pytest.mark.parametrize("bad", ["a\x00b", "a\ud800b"])
def test_clean_text_refuses_what_cannot_be_stored(bad):
    with pytest.raises(ServiceError) as caught:
        clean_text(bad, field="narrative", label="情况描述", max_len=100)
    assert caught.value.code == "invalid_input"
    assert caught.value.details == {"field": "narrative"}


def test_clean_text_trims_and_limits():
    assert clean_text("  邻里纠纷 ", field="t", label="事由", max_len=10) == "邻里纠纷"
    with pytest.raises(ServiceError) as caught:
        clean_text("长" * 11, field="t", label="事由", max_len=10)
    assert caught.value.code == "t_too_long"
    with pytest.raises(ServiceError) as caught:
        clean_text(5, field="t", label="事由", max_len=10)
    assert caught.value.code == "invalid_input"
