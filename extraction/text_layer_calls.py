"""PDFium's per-character text-layer functions with plain C types, for the loops that call them
for each of a page's thousands of characters (``ingest._layer_chars``, ``_text_layer_words``,
``digit_check._GlyphKeys``).

pypdfium2 declares each export with typed pointers, which ctypes checks and converts on every
call, and releases the GIL around it; for calls that take a microsecond that was most of their
cost (GetUnicode over a 2,170-character page: 2.6 ms typed, 1.5 ms plain). The same exports,
the same arguments: a text page is passed as its address (``address``).
"""

from __future__ import annotations

import ctypes

import pypdfium2.raw as pdfium_c

_POINTER, _INT, _UINT, _DOUBLE = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint, ctypes.c_double
_DOUBLE_P = ctypes.POINTER(ctypes.c_double)


def _plain(function, restype, *argtypes):
    return ctypes.PYFUNCTYPE(restype, *argtypes)(ctypes.cast(function, ctypes.c_void_p).value)


def address(raw) -> int:
    """A PDFium handle (``textpage.raw``) as the integer the plain functions take."""
    return ctypes.cast(raw, ctypes.c_void_p).value


get_unicode = _plain(pdfium_c.FPDFText_GetUnicode, _UINT, _POINTER, _INT)
has_unicode_map_error = _plain(pdfium_c.FPDFText_HasUnicodeMapError, _INT, _POINTER, _INT)
get_loose_char_box = _plain(
    pdfium_c.FPDFText_GetLooseCharBox, _INT, _POINTER, _INT, ctypes.POINTER(pdfium_c.FS_RECTF)
)
get_text_object = _plain(pdfium_c.FPDFText_GetTextObject, _POINTER, _POINTER, _INT)
get_font = _plain(pdfium_c.FPDFTextObj_GetFont, _POINTER, _POINTER)
get_char_box = _plain(
    pdfium_c.FPDFText_GetCharBox, _INT, _POINTER, _INT, _DOUBLE_P, _DOUBLE_P, _DOUBLE_P, _DOUBLE_P
)
get_char_origin = _plain(
    pdfium_c.FPDFText_GetCharOrigin, _INT, _POINTER, _INT, _DOUBLE_P, _DOUBLE_P
)
get_font_size = _plain(pdfium_c.FPDFText_GetFontSize, _DOUBLE, _POINTER, _INT)
get_matrix = _plain(
    pdfium_c.FPDFText_GetMatrix, _INT, _POINTER, _INT, ctypes.POINTER(pdfium_c.FS_MATRIX)
)
