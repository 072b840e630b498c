"""The inbox search (task name, process key, instance number) after it became equality on the
matching names: the same answers as a substring search, for Chinese and English."""

from __future__ import annotations


def _rows(web, q: str, tab: str = "available") -> int:
    return web.get(f"/inbox?tab={tab}&q={q}").text.count('data-testid="task-row"')


def test_search_by_part_of_a_task_name_process_key_or_number(signed_in, quote_process):
    web = signed_in("salesperson")
    instances = [quote_process(web.user) for _ in range(3)]
    assert _rows(web, "准备") == 3  # two Chinese characters of "准备报价 Prepare quote"
    assert _rows(web, "PREPARE") == 3  # case does not matter
    assert _rows(web, "discount") == 3  # part of the process key quote_discount_approval
    assert _rows(web, str(instances[1].id)) >= 1  # the instance number
    assert _rows(web, "经理") == 0  # the manager's task is not in this lane
    assert _rows(web, "%25") == 0 and _rows(web, "e_q") == 0  # literal, not wildcards
    assert "没有等待" in web.get("/inbox?tab=available&q=nothing-like-this").text


def test_search_counts_follow_the_search(signed_in, quote_process):
    web = signed_in("salesperson")
    for _ in range(2):
        quote_process(web.user)
    page = web.get("/inbox?tab=available&q=准备报价").text
    assert 'data-testid="count-available">2<' in page
    page = web.get("/inbox?tab=available&q=审批单").text
    assert 'data-testid="count-available">0<' in page
