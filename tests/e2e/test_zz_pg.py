import time, threading, traceback
import psycopg
from django.db.backends.signals import connection_created
from playwright.sync_api import Page

def cc(sender, connection, **kw):
    print("CREATED", threading.current_thread().name, connection.connection.info.backend_pid)
    print("".join(traceback.format_stack(limit=40)[-40:-3]))
connection_created.connect(cc, weak=False)


def test_pg(page: Page) -> None:
    page.goto("/accounts/login/")
    page.wait_for_load_state("networkidle")
    time.sleep(0.5)
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as c:
        for row in c.execute("select pid, state, left(query, 80) from pg_stat_activity where datname = 'test_test'"):
            print("PGACT", row)
