"""Other word-processor containers: .doc, .wps, .rtf and .odt through LibreOffice; .mht as MIME.

Agencies publish what their office suite saves. The legacy and open formats are
turned into .docx by LibreOffice headless (in a temporary folder, with its own
throw-away profile so that parallel conversions do not fight over one, and with
a time limit), then read like any Word file. A single-file web page (.mht,
.mhtml) is a MIME message around an HTML page: the page is taken out and read as
HTML, no converter needed.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from auditlib.blocks import IngestError

# A report converts in a few seconds; a minute more covers a cold start on a busy machine.
CONVERT_TIMEOUT = 120

# What each container is called in messages.
NAMES = {
    "doc": "旧版 Word（.doc）",
    "wps": "WPS 文字（.wps）",
    "rtf": "RTF 文档（.rtf）",
    "odt": "OpenDocument 文本（.odt）",
}


def office_binary() -> str | None:
    """LibreOffice's command, when it is installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_docx(data: bytes, kind: str, timeout: float = CONVERT_TIMEOUT) -> bytes:
    """The container converted to .docx by LibreOffice. Raises :class:`IngestError`."""
    name = NAMES.get(kind, kind)
    office = office_binary()
    if office is None:
        # The code of a .doc refused for want of a converter predates the other containers.
        code = "DOC_LEGACY" if kind in ("doc", "wps") else "OFFICE_MISSING"
        raise IngestError(
            code,
            f"{name}文件需要 LibreOffice 转换后才能读取，但本机未安装 LibreOffice（soffice）；"
            "请安装 libreoffice-writer-nogui，或将文件另存为 .docx 或 PDF 后再导入 "
            f"(a .{kind} file needs LibreOffice to be read, and soffice is not installed: "
            "install libreoffice-writer-nogui, or save the file as .docx or PDF)",
        )
    with tempfile.TemporaryDirectory(prefix="auditlib-office-") as d:
        folder = Path(d)
        src = folder / f"report.{kind}"
        src.write_bytes(data)
        profile = folder / "profile"
        cmd = [
            office,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(folder / "out"),
            str(src),
        ]
        env = {"HOME": str(folder), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        # Its own session: on a time-out the whole LibreOffice process group is ended,
        # not only the launcher (soffice starts soffice.bin under it).
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise IngestError(
                "CONVERT_TIMEOUT",
                f"{name}文件用 LibreOffice 转换超过 {timeout:.0f} 秒仍未完成，已放弃 "
                f"(LibreOffice did not convert the .{kind} file within {timeout:.0f} s)",
            ) from None
        out = folder / "out" / "report.docx"
        if not out.exists() or out.stat().st_size == 0:
            detail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            # A Word 97 container that will not convert keeps the code it always had.
            raise IngestError(
                "DOC_LEGACY" if kind in ("doc", "wps") else "CONVERT_FAILED",
                f"{name}文件无法用 LibreOffice 转换，可能已损坏或不是该格式；请另存为 .docx 或 PDF 后再导入 "
                f"(LibreOffice could not convert the .{kind} file; corrupt? save it as .docx or PDF)"
                + (f"：{detail[0]}" if detail else ""),
            )
        return out.read_bytes()


def mht_html(data: bytes) -> bytes:
    """The HTML page inside a single-file web page, as UTF-8 with a BOM. Raises :class:`IngestError`."""
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in msg.walk():
        if part.get_content_type() != "text/html":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        charset = part.get_content_charset()
        if charset:
            try:
                # The MIME header is the authority on the page's bytes; a BOM tells the
                # HTML reader so, whatever the page's own <meta> says.
                return b"\xef\xbb\xbf" + payload.decode(charset).encode("utf-8")
            except (LookupError, UnicodeDecodeError):
                pass
        return payload
    raise IngestError(
        "MHT_NO_PAGE",
        "单文件网页（.mht）中没有找到 HTML 正文，可能已损坏 (no HTML page inside the .mht file; corrupt?)",
    )
