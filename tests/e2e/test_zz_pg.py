import time, urllib.request, threading
import psycopg
from django.core.signals import request_finished
from pytest_django.live_server_helper import LiveServer


def test_pg(live_server: LiveServer, transactional_db: None) -> None:
    def rf(sender, **kw):
        from django.db import connections
        c = connections["default"]
        print("FINISHED in", threading.current_thread().name, "conn", c.connection is not None, c.close_at, c.in_atomic_block, kw)
    request_finished.connect(rf, weak=False)
    urllib.request.urlopen(live_server.url + "/accounts/login/").read()
    time.sleep(0.5)
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as c:
        for row in c.execute("select pid, state, left(query, 80) from pg_stat_activity where datname = 'test_test'"):
            print("PGACT", row)
    print(request_finished.receivers)
