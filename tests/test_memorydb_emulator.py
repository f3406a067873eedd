"""The MemoryDB emulator through the real redis-py client (and raw sockets for hostile input)."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.commands.search.field import NumericField, TagField, TextField, VectorField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.commands.search.query import Query

from runwire.testing.memorydb import Limits, MemoryDBEmulator

PASSWORD = "test-pw"


@pytest.fixture(scope="module")
def server() -> Iterator[MemoryDBEmulator]:
    with MemoryDBEmulator(password=PASSWORD, max_clients=8) as emu:
        yield emu


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def client(server: MemoryDBEmulator, request: pytest.FixtureRequest) -> Iterator[Any]:
    conn = redis.Redis.from_url(server.url, protocol=request.param)
    conn.flushall()
    for name in conn.execute_command("FT._LIST"):
        conn.ft(name.decode()).dropindex()
    yield conn
    conn.close()


def vec(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def make_index(conn: Any, metric: str = "COSINE", algorithm: str = "FLAT") -> None:
    conn.ft("idx").create_index(
        [
            TextField("content"),
            TagField("color"),
            NumericField("year"),
            VectorField("v", algorithm, {"TYPE": "FLOAT32", "DIM": 2, "DISTANCE_METRIC": metric}),
        ],
        definition=IndexDefinition(prefix=["doc:"], index_type=IndexType.HASH),
    )
    rows = [
        ("red,warm", 1999, (1.0, 0.0), "the quick brown fox"),
        ("blue", 2005, (0.0, 1.0), "a lazy dog sleeps"),
        ("red", 2010, (1.0, 1.0), "brown bears and foxes"),
        ("green,Blue", 2020, (-1.0, 0.2), "engineering notes"),
    ]
    for i, (color, year, vector, text) in enumerate(rows):
        conn.hset(
            f"doc:{i}", mapping={"content": text, "color": color, "year": year, "v": vec(*vector)}
        )
    conn.hset("other:1", mapping={"content": "the quick brown fox", "v": vec(1.0, 0.0)})


def search(conn: Any, query: str, **params: Any) -> list[tuple[str, dict[str, str]]]:
    """(id, fields) of each result, through the raw command (RESP2 list or RESP3 map)."""
    args: list[Any] = ["FT.SEARCH", "idx", query]
    if params:
        args += ["PARAMS", 2 * len(params)]
        for name, value in params.items():
            args += [name, value]
    args += ["DIALECT", 2, "LIMIT", 0, 100]
    reply = conn.execute_command(*args)
    if isinstance(reply, dict):
        return [
            (
                r[b"id"].decode(),
                {k.decode(): v.decode("latin-1") for k, v in r[b"extra_attributes"].items()},
            )
            for r in reply[b"results"]
        ]
    out = []
    for i in range(1, len(reply), 2):
        flat = reply[i + 1]
        fields = {flat[j].decode(): flat[j + 1].decode("latin-1") for j in range(0, len(flat), 2)}
        out.append((reply[i].decode(), fields))
    return out


def ids(results: list[tuple[str, dict[str, str]]]) -> list[str]:
    return [key for key, _ in results]


# -- plain commands -----------------------------------------------------------------------
def test_hashes_keys_and_strings(client: Any) -> None:
    assert client.hset("h", mapping={"a": "1", "b": "2"}) == 2
    assert client.hset("h", "a", "3") == 0
    assert client.hget("h", "a") == b"3"
    assert client.hgetall("h") == {b"a": b"3", b"b": b"2"}
    assert client.hmget("h", ["a", "zz"]) == [b"3", None]
    assert client.hdel("h", "a", "zz") == 1
    assert client.hexists("h", "b") and not client.hexists("h", "a")
    assert client.exists("h", "nope") == 1
    assert client.type("h") == b"hash"
    assert client.set("s", "v") and client.get("s") == b"v"
    with pytest.raises(redis.ResponseError, match=r"^WRONGTYPE Operation against a key"):
        client.hget("s", "x")
    assert sorted(client.keys("*")) == [b"h", b"s"]
    assert sorted(client.scan_iter(match="h*", count=1)) == [b"h"]
    assert client.delete("h", "s", "nope") == 2
    assert client.dbsize() == 0


def test_expiry(client: Any) -> None:
    client.hset("gone", "a", "1")
    assert client.expire("gone", 100)
    assert 0 < client.ttl("gone") <= 100
    assert client.pexpire("gone", 1)
    deadline = time.monotonic() + 5
    while client.exists("gone") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not client.exists("gone")
    assert client.ttl("gone") == -2


def test_select_and_transactions(server: MemoryDBEmulator) -> None:
    other = redis.Redis.from_url(server.url + "/3", protocol=2)
    other.set("only-in-3", "x")
    zero = redis.Redis.from_url(server.url, protocol=2)
    assert zero.get("only-in-3") is None and other.get("only-in-3") == b"x"
    pipe = zero.pipeline(transaction=True)
    pipe.set("t", "1").get("t")
    assert pipe.execute() == [True, b"1"]
    with pytest.raises(redis.ResponseError, match="DB index is out of range"):
        zero.select(99)
    other.flushdb()


def test_auth_is_required_and_checked(server: MemoryDBEmulator) -> None:
    anonymous = redis.Redis(host=server.host, port=server.port, protocol=2)
    with pytest.raises(redis.AuthenticationError, match="Authentication required"):
        anonymous.ping()
    wrong = redis.Redis(host=server.host, port=server.port, password="nope", protocol=2)
    with pytest.raises(redis.AuthenticationError, match="invalid username-password pair"):
        wrong.ping()
    wrong3 = redis.Redis(host=server.host, port=server.port, password="nope", protocol=3)
    with pytest.raises(redis.AuthenticationError):
        wrong3.ping()
    named = redis.Redis(
        host=server.host, port=server.port, username="default", password=PASSWORD, protocol=2
    )
    assert named.ping()


def test_errors_are_worded_as_redis_words_them(client: Any) -> None:
    with pytest.raises(redis.ResponseError, match="unknown command 'NOPE', with args beginning"):
        client.execute_command("NOPE", "x")
    with pytest.raises(redis.ResponseError, match="wrong number of arguments for 'hget' command"):
        client.execute_command("HGET", "x")
    with pytest.raises(redis.ResponseError, match="no such index"):
        client.ft("missing").search("*")
    with pytest.raises(redis.ResponseError, match="Unknown argument"):
        client.execute_command("FT.CREATE", "bad", "BOGUS", "SCHEMA", "a", "TEXT")
    with pytest.raises(redis.ResponseError, match="Invalid field type"):
        client.execute_command("FT.CREATE", "bad", "SCHEMA", "a", "BLOB")
    with pytest.raises(redis.ResponseError, match="Missing mandatory parameter"):
        client.execute_command("FT.CREATE", "bad", "SCHEMA", "v", "VECTOR", "FLAT", "2", "DIM", "3")
    make_index(client)
    with pytest.raises(redis.ResponseError, match="Index already exists"):
        make_index(client)
    with pytest.raises(redis.ResponseError, match=r"^Syntax error at offset"):
        search(client, "@color:{red")
    with pytest.raises(redis.ResponseError, match="Unknown field"):
        search(client, "@nofield:{x}")
    with pytest.raises(redis.ResponseError, match="query vector blob size"):
        search(client, "*=>[KNN 2 @v $q AS d]", q=vec(1.0, 2.0, 3.0))
    with pytest.raises(redis.ResponseError, match="No such parameter"):
        search(client, "*=>[KNN 2 @v $q AS d]")


# -- search -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("*", ["doc:0", "doc:1", "doc:2", "doc:3"]),
        ("@color:{red}", ["doc:0", "doc:2"]),
        ("@color:{blue | warm}", ["doc:0", "doc:1", "doc:3"]),
        ("(-@color:{red})", ["doc:1", "doc:3"]),
        ("@color:{gr*}", ["doc:3"]),
        ("@year:[2005 2010]", ["doc:1", "doc:2"]),
        ("@year:[(2005 +inf]", ["doc:2", "doc:3"]),
        ("@year:[-inf (2005]", ["doc:0"]),
        ("(-@year:[2010 2010])", ["doc:0", "doc:1", "doc:3"]),
        ('@content:("brown fox")', ["doc:0"]),
        ('(-@content:"brown fox")', ["doc:1", "doc:2", "doc:3"]),
        ("@content:(brown)", ["doc:0", "doc:2"]),
        ("@content:(fox|dog)", ["doc:0", "doc:1"]),
        ("@content:(brown bears)", ["doc:2"]),
        ("@content:(engine*)", ["doc:3"]),
        ("@content:(%dgo%)", []),
        ("@content:(%doh%)", ["doc:1"]),
        ("@content:(*ineer*)", ["doc:3"]),
        ("(@color:{red} @year:[2000 +inf])", ["doc:2"]),
        ("(@color:{red} | @year:[2020 2020])", ["doc:0", "doc:2", "doc:3"]),
        ("lazy", ["doc:1"]),
    ],
)
def test_filters(client: Any, query: str, expected: list[str]) -> None:
    make_index(client)
    assert ids(search(client, query)) == expected


@pytest.mark.parametrize(
    ("metric", "order", "first"),
    [("COSINE", ["doc:0", "doc:2", "doc:1"], 0.0), ("L2", ["doc:0", "doc:2", "doc:1"], 0.0)],
)
def test_knn_is_exact(client: Any, metric: str, order: list[str], first: float) -> None:
    make_index(client, metric, "HNSW")
    found = search(client, "*=>[KNN 3 @v $q AS dist]", q=vec(1.0, 0.0))
    assert ids(found) == order
    assert float(found[0][1]["dist"]) == pytest.approx(first, abs=1e-6)
    if metric == "L2":  # squared Euclidean, as Redis reports it
        assert float(found[1][1]["dist"]) == pytest.approx(1.0)
        assert float(found[2][1]["dist"]) == pytest.approx(2.0)
    else:
        assert float(found[1][1]["dist"]) == pytest.approx(1 - 1 / 2**0.5, abs=1e-6)


def test_inner_product_and_prefilter(client: Any) -> None:
    make_index(client, "IP")
    found = search(client, "(@color:{blue})=>[KNN $k @v $q AS dist]", q=vec(0.0, 2.0), k="5")
    assert ids(found) == ["doc:1", "doc:3"]
    assert float(found[0][1]["dist"]) == pytest.approx(-1.0)  # 1 - dot


def test_vector_range(client: Any) -> None:
    make_index(client)
    found = search(
        client,
        "@v:[VECTOR_RANGE $r $q]=>{$yield_distance_as: d}",
        q=vec(1.0, 0.0),
        r="0.5",
    )
    assert ids(found) == ["doc:0", "doc:2"]
    assert set(found[1][1]) >= {"d", "content"}


def test_query_object_return_sort_limit(client: Any) -> None:
    make_index(client)
    query = (
        Query("*=>[KNN 4 @v $q AS distance]")
        .return_fields("content", "distance")
        .sort_by("distance")
        .paging(1, 2)
        .dialect(2)
    )
    reply = client.ft("idx").search(query, {"q": vec(0.0, 1.0)})
    if isinstance(reply, dict):  # RESP3: redis-py keeps the map
        docs = [r["id"] for r in reply["results"]]
        assert reply["total_results"] == 4
        assert set(reply["results"][0]["extra_attributes"]) == {"content", "distance"}
    else:
        docs = [d.id for d in reply.docs]
        assert reply.total == 4 and set(vars(reply.docs[0])) >= {"content", "distance"}
    assert docs == ["doc:2", "doc:3"]
    by_year = client.execute_command(
        "FT.SEARCH", "idx", "*", "SORTBY", "year", "DESC", "NOCONTENT", "LIMIT", 0, 2
    )
    if isinstance(by_year, dict):
        assert [r[b"id"] for r in by_year[b"results"]] == [b"doc:3", b"doc:2"]
    else:
        assert by_year == [4, b"doc:3", b"doc:2"]


def test_index_follows_writes_and_drop(client: Any) -> None:
    make_index(client)
    client.hset("doc:9", mapping={"content": "late", "v": vec(0.5, 0.5)})
    client.hset("doc:bad", mapping={"content": "bad vector", "v": b"\x00\x01"})
    assert "doc:9" in ids(search(client, "late"))
    client.delete("doc:9")
    assert ids(search(client, "late")) == []
    info = client.ft("idx").info()
    info = {(k.decode() if isinstance(k, bytes) else k): v for k, v in info.items()}
    assert int(info["num_docs"]) == 4 and int(info["hash_indexing_failures"]) == 1
    assert client.execute_command("FT._LIST") == [b"idx"]
    client.ft("idx").dropindex(delete_documents=True)
    assert client.execute_command("FT._LIST") == []
    assert client.exists("doc:0") == 0 and client.exists("other:1") == 1


# -- hostile input ------------------------------------------------------------------------
def raw(server: MemoryDBEmulator, payload: bytes, auth: bool = True) -> bytes:
    """Send ``payload`` on a fresh socket; everything the server answers until it closes
    (or 2 s of silence)."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        if auth:
            sock.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(PASSWORD), PASSWORD.encode()))
            assert sock.recv(100) == b"+OK\r\n"
        if payload:
            sock.sendall(payload)
        sock.settimeout(2)
        out = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            out += data
        return out


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b"*1\r\n$99999999999\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*99999999999\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\n*1\r\n$4\r\nPING\r\n", b"-ERR Protocol error: expected '$', got '*'\r\n"),
        (b"*x\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"A" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
    ],
)
def test_hostile_requests_are_refused_and_closed(
    server: MemoryDBEmulator, payload: bytes, error: bytes
) -> None:
    assert raw(server, payload) == error


def test_announced_size_is_refused_before_it_is_buffered() -> None:
    limits = Limits(max_bulk=1024, max_command=4096)
    with MemoryDBEmulator(limits=limits) as emu:
        assert raw(emu, b"*1\r\n$2048\r\n", auth=False).startswith(b"-ERR Protocol error")
        many = b"*10\r\n" + b"$1000\r\n" + b"x" * 1000 + b"\r\n"
        assert raw(emu, many * 1, auth=False) == b""  # incomplete: nothing answered yet
        args = b"".join(b"$1000\r\n" + b"x" * 1000 + b"\r\n" for _ in range(5))
        reply = raw(emu, b"*5\r\n" + args, auth=False)
        assert reply == b"-ERR Protocol error: command too big\r\n"


def test_inline_split_and_pipelined_commands(server: MemoryDBEmulator) -> None:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(f'AUTH "{PASSWORD}"\r\nPING\r\n'.encode())
        buf = b""
        while buf.count(b"\r\n") < 2:
            buf += sock.recv(100)
        assert buf == b"+OK\r\n+PONG\r\n"
        command = b"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n*1\r\n$4\r\nECHO\r\n"
        for i in range(len(command)):  # one byte at a time
            sock.sendall(command[i : i + 1])
        expected = b"$5\r\nhello\r\n-ERR wrong number of arguments for 'echo' command\r\n"
        buf = b""
        while len(buf) < len(expected):
            buf += sock.recv(100)
        assert buf == expected


def test_unauthenticated_commands_and_deep_queries(server: MemoryDBEmulator, client: Any) -> None:
    assert raw(server, b"*1\r\n$4\r\nKEYS\r\n", auth=False).startswith(
        b"-NOAUTH Authentication required."
    )
    make_index(client)
    with pytest.raises(redis.ResponseError, match="nests too deeply"):
        search(client, "(" * 200 + "x" + ")" * 200)
    with pytest.raises(redis.ResponseError):
        search(client, "@year:[abc def]")


def test_max_clients() -> None:
    with MemoryDBEmulator(max_clients=2) as emu:
        socks = [socket.create_connection((emu.host, emu.port), timeout=5) for _ in range(2)]
        try:
            for sock in socks:
                sock.sendall(b"PING\r\n")
                assert sock.recv(100) == b"+PONG\r\n"
            assert raw(emu, b"", auth=False) == b"-ERR max number of clients reached\r\n"
        finally:
            for sock in socks:
                sock.close()


def test_runwire_emulate_memorydb_runs_a_child() -> None:
    script = (
        "import os, redis; r = redis.Redis.from_url(os.environ['MEMORYDB_URL']); "
        "r.set('k', 'v'); print(r.get('k').decode(), os.environ['REDIS_URL'][:8])"
    )
    done = subprocess.run(
        [sys.executable, "-m", "runwire.cli.main", "emulate", "memorydb", "--", sys.executable,
         "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "v redis://"
    assert "answered by runwire's MemoryDB emulator" in done.stderr
    assert "1 x SET" in done.stderr
