"""A page of a long list: which rows it holds and where its links lead (no Flask)."""

import pytest

from portal.models import Account
from portal.paging import Page


@pytest.fixture
def accounts(database):
    """Accounts 1 to 7, read three to a page: pages of 3, 3 and 1."""
    Account.insert_many([{"id": i, "name": f"Account {i}"} for i in range(1, 8)]).execute()
    return Account.select().order_by(Account.id)


def ids(page):
    return [account.id for account in page.items]


@pytest.mark.parametrize(
    ("asked", "number", "shown"),
    [
        pytest.param(1, 1, [1, 2, 3], id="first"),
        pytest.param(2, 2, [4, 5, 6], id="middle"),
        pytest.param(3, 3, [7], id="last"),
        pytest.param(99, 3, [7], id="past-the-last"),
        pytest.param(0, 1, [1, 2, 3], id="zero"),
        pytest.param(-4, 1, [1, 2, 3], id="negative"),
        pytest.param(None, 1, [1, 2, 3], id="not-a-number"),
    ],
)
def test_a_page_holds_its_rows_and_counts_the_whole_list(accounts, asked, number, shown):
    page = Page.of(accounts, asked, 3)
    assert (ids(page), page.number, page.count, page.total) == (shown, number, 3, 7)


def test_an_empty_list_is_one_empty_page(database):
    page = Page.of(Account.select(), 5, 3)
    assert (page.items, page.number, page.count, page.total) == ([], 1, 1, 0)


def test_a_list_that_fills_its_last_page_has_no_page_after(accounts):
    page = Page.of(accounts.where(Account.id <= 6), 9, 3)
    assert (ids(page), page.number, page.count, page.total) == ([4, 5, 6], 2, 2, 6)
