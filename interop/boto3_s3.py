#!/usr/bin/env python3
"""Interop checks: the real `boto3` S3 client against a running `s3-mock`.

Started by `interop/boto3_s3.sh`, which builds and starts the server; can also be run by hand:

    python boto3_s3.py --endpoint http://127.0.0.1:PORT --access-key K --secret-key S \
        --public-bucket yanez-miid-sn54 --private-bucket NAME [--domain localhost]

Prints one PASS/FAIL (or SKIP) line per check; exit status 1 if any check failed.
"""

import argparse
import base64
import hashlib
import os
import socket
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import zlib

import boto3
import botocore
from boto3.s3.transfer import TransferConfig
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

MIID_KEY = (
    "submissions/challenge_1754000000_5GrwvaEF/"
    "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty/5658f9bf506f29b3/"
    "a1b2c3d4e5f6_m_doc/background_edit_1754000187.png.tlock"
)

RESULTS = {"pass": 0, "fail": 0, "skip": 0}


def check(name, cond, detail=""):
    if cond:
        RESULTS["pass"] += 1
        print(f"PASS {name}")
    else:
        RESULTS["fail"] += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))
    return cond


def skip(name, reason):
    RESULTS["skip"] += 1
    print(f"SKIP {name}: {reason}")


def run(name, fn):
    """Run a group of checks; an unexpected exception is one FAIL for the group."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        detail = f"{type(e).__name__}: {e}"
        if isinstance(e, ClientError):
            detail += f" | response={e.response}"
        check(f"{name} (no unexpected exception)", False, detail)
        traceback.print_exc(file=sys.stdout)


def client_error(fn):
    """Call fn, return (code, http_status) of the ClientError it raises, or (None, None)."""
    try:
        fn()
    except ClientError as e:
        return e.response.get("Error", {}).get("Code"), e.response.get("ResponseMetadata", {}).get(
            "HTTPStatusCode"
        )
    return None, None


def b64(digest):
    return base64.b64encode(digest).decode()


def make_client(args, *, secret=None, style="path", endpoint=None, unsigned=False):
    cfg = Config(
        region_name="us-east-1",
        signature_version=UNSIGNED if unsigned else "s3v4",
        s3={"addressing_style": style},
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
    )
    kw = {}
    if not unsigned:
        kw = {
            "aws_access_key_id": args.access_key,
            "aws_secret_access_key": secret if secret is not None else args.secret_key,
        }
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint or args.endpoint, config=cfg, **kw
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--public-bucket", required=True)
    ap.add_argument("--private-bucket", required=True)
    ap.add_argument("--domain", default=None)
    args = ap.parse_args()

    print(f"== boto3 {boto3.__version__} / botocore {botocore.__version__} -> {args.endpoint}")
    s3 = make_client(args)
    pub, priv = args.public_bucket, args.private_bucket
    new_bucket = "boto3-created-bucket"
    work = tempfile.mkdtemp(prefix="boto3-s3-")

    # ---- buckets ----
    def buckets():
        r = s3.create_bucket(Bucket=new_bucket)
        check("create_bucket -> 200", r["ResponseMetadata"]["HTTPStatusCode"] == 200, str(r))
        names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
        check(
            "list_buckets has the created, public-write and private buckets",
            {new_bucket, pub, priv} <= set(names),
            str(names),
        )
        r = s3.head_bucket(Bucket=new_bucket)
        check("head_bucket -> 200", r["ResponseMetadata"]["HTTPStatusCode"] == 200)
        code, st = client_error(lambda: s3.head_bucket(Bucket="no-such-bucket-here"))
        check("head_bucket of a missing bucket -> 404", st == 404, f"{code} {st}")

    run("buckets", buckets)

    # ---- object round trip ----
    def roundtrip():
        key = "dir/round trip é+.bin"
        body = os.urandom(4096)
        meta = {"challenge-id": "challenge_1754000000", "miner": "5FHneW46"}
        r = s3.put_object(
            Bucket=new_bucket, Key=key, Body=body, ContentType="image/png", Metadata=meta
        )
        etag = r["ETag"]
        check("put_object ETag = MD5", etag.strip('"') == hashlib.md5(body).hexdigest(), etag)
        g = s3.get_object(Bucket=new_bucket, Key=key)
        data = g["Body"].read()
        check("get_object body equal", data == body, f"{len(data)} bytes")
        check("get_object content type", g["ContentType"] == "image/png", g["ContentType"])
        check("get_object metadata", g["Metadata"] == meta, str(g["Metadata"]))
        h = s3.head_object(Bucket=new_bucket, Key=key)
        check(
            "head_object length/type/metadata/etag",
            h["ContentLength"] == len(body)
            and h["ContentType"] == "image/png"
            and h["Metadata"] == meta
            and h["ETag"] == etag,
            str({k: h.get(k) for k in ("ContentLength", "ContentType", "Metadata", "ETag")}),
        )
        rg = s3.get_object(Bucket=new_bucket, Key=key, Range="bytes=10-19")
        check("get_object Range", rg["Body"].read() == body[10:20])
        d = s3.delete_object(Bucket=new_bucket, Key=key)
        check("delete_object -> 204", d["ResponseMetadata"]["HTTPStatusCode"] == 204, str(d))
        code, st = client_error(lambda: s3.head_object(Bucket=new_bucket, Key=key))
        check("head_object after delete -> 404", st == 404, f"{code} {st}")
        code, st = client_error(lambda: s3.get_object(Bucket=new_bucket, Key=key))
        check("get_object after delete -> NoSuchKey", code == "NoSuchKey" and st == 404, f"{code} {st}")

    run("round trip", roundtrip)

    # ---- listing ----
    def listing():
        keys = ["list/a/1", "list/a/2", "list/a/b/3", "list/a/c/4", "list/b/5", "list/z"]
        for k in keys:
            s3.put_object(Bucket=new_bucket, Key=k, Body=k.encode())
        r = s3.list_objects_v2(Bucket=new_bucket, Prefix="list/a/", Delimiter="/")
        contents = [o["Key"] for o in r.get("Contents", [])]
        prefixes = [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        check(
            "list_objects_v2 prefix+delimiter",
            contents == ["list/a/1", "list/a/2"] and prefixes == ["list/a/b/", "list/a/c/"],
            f"contents={contents} prefixes={prefixes}",
        )
        r = s3.list_objects_v2(Bucket=new_bucket, Prefix="list/", Delimiter="/")
        check(
            "list_objects_v2 top level",
            [o["Key"] for o in r.get("Contents", [])] == ["list/z"]
            and [p["Prefix"] for p in r.get("CommonPrefixes", [])] == ["list/a/", "list/b/"],
            str(r.get("Contents")) + str(r.get("CommonPrefixes")),
        )
        # manual pagination
        seen, token, pages = [], None, 0
        while True:
            kw = {"Bucket": new_bucket, "Prefix": "list/", "MaxKeys": 2}
            if token:
                kw["ContinuationToken"] = token
            r = s3.list_objects_v2(**kw)
            pages += 1
            seen += [o["Key"] for o in r.get("Contents", [])]
            if not r.get("IsTruncated"):
                break
            token = r["NextContinuationToken"]
            if pages > 10:
                break
        check(
            "list_objects_v2 MaxKeys=2 pagination (3 pages, all keys, in order)",
            pages == 3 and seen == sorted(keys),
            f"pages={pages} seen={seen}",
        )
        pg = s3.get_paginator("list_objects_v2")
        seen2 = [
            o["Key"]
            for page in pg.paginate(Bucket=new_bucket, Prefix="list/", PaginationConfig={"PageSize": 4})
            for o in page.get("Contents", [])
        ]
        check("list_objects_v2 paginator", seen2 == sorted(keys), str(seen2))
        r = s3.list_objects_v2(Bucket=new_bucket, Prefix="list/", StartAfter="list/a/c/4")
        check(
            "list_objects_v2 StartAfter",
            [o["Key"] for o in r.get("Contents", [])] == ["list/b/5", "list/z"],
            str(r.get("Contents")),
        )
        d = s3.delete_objects(Bucket=new_bucket, Delete={"Objects": [{"Key": k} for k in keys]})
        check("delete_objects (batch)", len(d.get("Deleted", [])) == len(keys), str(d))
        r = s3.list_objects_v2(Bucket=new_bucket, Prefix="list/")
        check("list after batch delete empty", r["KeyCount"] == 0, str(r))

    run("listing", listing)

    # ---- multipart via upload_file / download_file ----
    def multipart():
        src = os.path.join(work, "big.bin")
        dst = os.path.join(work, "big.out")
        size = 20 * 1024 * 1024
        with open(src, "wb") as f:
            f.write(os.urandom(size))
        tc = TransferConfig()  # defaults: threshold 8 MiB, chunk 8 MiB
        t = time.monotonic()
        s3.upload_file(src, new_bucket, "big/20mb.bin", Config=tc)
        up = time.monotonic() - t
        h = s3.head_object(Bucket=new_bucket, Key="big/20mb.bin")
        check(
            f"upload_file 20 MiB went multipart (ETag ...-3, {up:.2f}s)",
            h["ETag"].strip('"').endswith("-3") and h["ContentLength"] == size,
            f"{h['ETag']} {h['ContentLength']}",
        )
        t = time.monotonic()
        s3.download_file(new_bucket, "big/20mb.bin", dst, Config=tc)
        down = time.monotonic() - t
        with open(src, "rb") as a, open(dst, "rb") as b:
            check(f"download_file bytes equal ({down:.2f}s)", a.read() == b.read())
        ups = s3.list_multipart_uploads(Bucket=new_bucket)
        check("no multipart upload left open", not ups.get("Uploads"), str(ups.get("Uploads")))

    run("multipart", multipart)

    # ---- additional checksums ----
    def checksums():
        body = b"MIID checksum body " * 1000
        cases = [
            ("SHA256", "ChecksumSHA256", b64(hashlib.sha256(body).digest())),
            ("CRC32", "ChecksumCRC32", b64(zlib.crc32(body).to_bytes(4, "big"))),
        ]
        for alg, field, want in cases:
            key = f"sum/{alg.lower()}.bin"
            r = s3.put_object(Bucket=new_bucket, Key=key, Body=body, ChecksumAlgorithm=alg)
            check(f"put_object ChecksumAlgorithm={alg} accepted, echoed", r.get(field) == want,
                  f"got {r.get(field)} want {want}")
            h = s3.head_object(Bucket=new_bucket, Key=key, ChecksumMode="ENABLED")
            check(f"head_object ChecksumMode=ENABLED returns {field}", h.get(field) == want,
                  f"got {h.get(field)} want {want}")
            g = s3.get_object(Bucket=new_bucket, Key=key, ChecksumMode="ENABLED")
            data = g["Body"].read()  # botocore validates the checksum while reading
            check(f"get_object ChecksumMode=ENABLED returns {field}, body equal",
                  g.get(field) == want and data == body, f"got {g.get(field)} want {want}")
        bad = b64(hashlib.sha256(b"something else").digest())
        code, st = client_error(
            lambda: s3.put_object(Bucket=new_bucket, Key="sum/bad.bin", Body=body, ChecksumSHA256=bad)
        )
        check("put_object with a wrong ChecksumSHA256 -> 400 BadDigest", code == "BadDigest" and st == 400,
              f"{code} {st}")
        code, st = client_error(lambda: s3.head_object(Bucket=new_bucket, Key="sum/bad.bin"))
        check("... and nothing stored", st == 404, f"{code} {st}")

    run("checksums", checksums)

    # ---- presigned URL ----
    def presigned():
        body = b"presigned body"
        s3.put_object(Bucket=new_bucket, Key="pre/obj.txt", Body=body)
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": new_bucket, "Key": "pre/obj.txt"}, ExpiresIn=300
        )
        with urllib.request.urlopen(url, timeout=10) as resp:
            check("presigned GET via urllib -> 200, body equal", resp.status == 200 and resp.read() == body)

        def status_of(u):
            try:
                with urllib.request.urlopen(u, timeout=10) as resp:
                    return resp.status, resp.read()[:300]
            except urllib.error.HTTPError as e:
                return e.code, e.read()[:300]

        parts = urllib.parse.urlsplit(url)
        q = urllib.parse.parse_qsl(parts.query)
        sig = dict(q)["X-Amz-Signature"]
        flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
        tampered = {
            "signature changed": [(k, flipped if k == "X-Amz-Signature" else v) for k, v in q],
            "X-Amz-Expires changed": [(k, "600" if k == "X-Amz-Expires" else v) for k, v in q],
        }
        for what, newq in tampered.items():
            u = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(newq)))
            st, text = status_of(u)
            check(f"presigned URL with {what} -> 403 SignatureDoesNotMatch",
                  st == 403 and b"SignatureDoesNotMatch" in text, f"{st} {text!r}")
        other = parts._replace(path=parts.path.replace("obj.txt", "other.txt"))
        st, text = status_of(urllib.parse.urlunsplit(other))
        check("presigned URL with the key changed -> 403", st == 403, f"{st} {text!r}")

    run("presigned", presigned)

    # ---- wrong secret ----
    def wrong_secret():
        bad = make_client(args, secret=args.secret_key + "x")
        code, st = client_error(lambda: bad.list_buckets())
        check("wrong secret: list_buckets -> 403 SignatureDoesNotMatch",
              code == "SignatureDoesNotMatch" and st == 403, f"{code} {st}")
        code, st = client_error(lambda: bad.put_object(Bucket=new_bucket, Key="x/y", Body=b"z"))
        check("wrong secret: put_object -> 403 SignatureDoesNotMatch",
              code == "SignatureDoesNotMatch" and st == 403, f"{code} {st}")

    run("wrong secret", wrong_secret)

    # ---- anonymous writes ----
    def anonymous():
        anon = make_client(args, unsigned=True)
        body = os.urandom(3000)
        r = anon.put_object(Bucket=pub, Key=MIID_KEY, Body=body, ContentType="application/octet-stream")
        check("anonymous put_object (MIID key layout) into the public-write bucket -> 200",
              r["ResponseMetadata"]["HTTPStatusCode"] == 200, str(r["ResponseMetadata"]))
        g = s3.get_object(Bucket=pub, Key=MIID_KEY)
        check("... readable with credentials, bytes equal", g["Body"].read() == body)
        lst = s3.list_objects_v2(Bucket=pub, Prefix="submissions/")
        check("... listed under submissions/ with credentials",
              [o["Key"] for o in lst.get("Contents", [])] == [MIID_KEY], str(lst.get("Contents")))
        code, st = client_error(lambda: anon.get_object(Bucket=pub, Key=MIID_KEY))
        check("anonymous get_object from the public-write bucket -> 403 AccessDenied",
              code == "AccessDenied" and st == 403, f"{code} {st}")
        code, st = client_error(lambda: anon.list_objects_v2(Bucket=pub))
        check("anonymous list_objects_v2 -> 403 AccessDenied", code == "AccessDenied" and st == 403,
              f"{code} {st}")
        code, st = client_error(lambda: anon.put_object(Bucket=priv, Key=MIID_KEY, Body=body))
        check("anonymous put_object into the private bucket -> 403 AccessDenied",
              code == "AccessDenied" and st == 403, f"{code} {st}")
        code, st = client_error(lambda: s3.head_object(Bucket=priv, Key=MIID_KEY))
        check("... and nothing stored there", st == 404, f"{code} {st}")
        # multipart, unsigned (boto3 switches above 8 MB)
        src = os.path.join(work, "anon.bin")
        with open(src, "wb") as f:
            f.write(os.urandom(9 * 1024 * 1024))
        key = MIID_KEY.replace("background_edit", "big_edit")
        anon.upload_file(src, pub, key)
        h = s3.head_object(Bucket=pub, Key=key)
        g = s3.get_object(Bucket=pub, Key=key)["Body"].read()
        with open(src, "rb") as f:
            check("anonymous upload_file 9 MiB (multipart) into the public-write bucket, bytes equal",
                  h["ETag"].strip('"').endswith("-2") and g == f.read(), h["ETag"])

    run("anonymous", anonymous)

    # ---- virtual-hosted style ----
    def virtual():
        if not args.domain:
            skip("virtual-hosted style", "no --domain given")
            return
        port = urllib.parse.urlsplit(args.endpoint).port
        host = f"{pub}.{args.domain}"
        try:
            socket.getaddrinfo(args.domain, port)
        except OSError as e:
            skip("virtual-hosted style", f"{args.domain} does not resolve: {e}")
            return
        try:
            resolved = sorted({a[4][0] for a in socket.getaddrinfo(host, port)})
            how = f"{host} resolves to {resolved}"
        except OSError as e:
            if args.domain != "localhost":
                skip("virtual-hosted style", f"{host} does not resolve: {e}")
                return
            # RFC 6761 6.3: *.localhost is loopback. glibc without nss-myhostname/systemd-resolved
            # does not say so; do it in this process (like curl --resolve) for *.localhost only.
            real = socket.getaddrinfo

            def gai(h, *a, **kw):
                if isinstance(h, str) and h.endswith(".localhost"):
                    h = "127.0.0.1"
                return real(h, *a, **kw)

            socket.getaddrinfo = gai
            how = f"{host} did not resolve ({e}); *.localhost mapped to 127.0.0.1 in-process (RFC 6761)"
        print(f"   virtual-hosted: {how}")
        vs = make_client(args, style="virtual", endpoint=f"http://{args.domain}:{port}")
        body = b"virtual hosted body"
        r = vs.put_object(Bucket=pub, Key="vhost/obj.txt", Body=body, ContentType="text/plain")
        sent = r["ResponseMetadata"].get("HTTPHeaders", {})
        check("virtual-hosted put_object -> 200", r["ResponseMetadata"]["HTTPStatusCode"] == 200, str(sent))
        # the request really went to BUCKET.DOMAIN
        url = vs.generate_presigned_url("get_object", Params={"Bucket": pub, "Key": "vhost/obj.txt"})
        check("virtual-hosted URL host is BUCKET.DOMAIN", urllib.parse.urlsplit(url).hostname == host, url)
        g = vs.get_object(Bucket=pub, Key="vhost/obj.txt")
        check("virtual-hosted get_object body/type", g["Body"].read() == body and g["ContentType"] == "text/plain")
        g2 = s3.get_object(Bucket=pub, Key="vhost/obj.txt")
        check("... same object seen path-style", g2["Body"].read() == body)
        lst = vs.list_objects_v2(Bucket=pub, Prefix="vhost/")
        check("virtual-hosted list_objects_v2", [o["Key"] for o in lst.get("Contents", [])] == ["vhost/obj.txt"],
              str(lst.get("Contents")))
        with urllib.request.urlopen(url, timeout=10) as resp:
            check("virtual-hosted presigned GET via urllib", resp.read() == body)
        vs.delete_object(Bucket=pub, Key="vhost/obj.txt")
        code, st = client_error(lambda: s3.head_object(Bucket=pub, Key="vhost/obj.txt"))
        check("virtual-hosted delete_object took effect", st == 404, f"{code} {st}")

    run("virtual-hosted", virtual)

    print(f"== boto3 checks: {RESULTS['pass']} passed, {RESULTS['fail']} failed, {RESULTS['skip']} skipped")
    return 1 if RESULTS["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
