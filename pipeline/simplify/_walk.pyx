# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""The simplifier's passes over the tree, compiled: the same results as their Python twins.

- `decide`: the text rule's decisions (text_rule._Walk): which subtrees to drop, which are
  hidden, which elements lose their short running text, which are boilerplate. A bottom-up
  pass measures every element's text on the UTF-8 bytes in place (each text node read once),
  then a top-down pass decides as the Python walk does.
- the passes after it (tidy.py): `strip_attributes`, `fold_candidates`, `normalize_whitespace`,
  `nesting_repairs`, `empty_elements`; and `collapsed_text`, `first_descendant`,
  `has_control_characters` for mhtml.py and serialize.py.
- removals (`drop_trees`, `strip_elements`): a removed node is unlinked and appended to a
  `trash` element outside the body, which libxml2 frees with the document.

They read libxml2's structs (no proxy object per node) and call no libxml2 function (lxml
links libxml2 statically and does not export it): only struct fields and lxml's public C API.
They call back into Python only for the rare exact checks (a copyright regex when a byte test
hints at one, a class/id value beyond ASCII, a text lxml refuses) and for the rare structural
edits, which the callers make. A tree `decide` does not expect (comments, entity references,
XInclude nodes left in it) makes it return None, and the caller walks it in Python.
"""

from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp, memcpy, memmove, memset, strcmp, strlen

cimport lxml.includes.etreepublic as cetree
from lxml.includes.tree cimport (
    XML_CDATA_SECTION_NODE,
    XML_ELEMENT_NODE,
    XML_TEXT_NODE,
    XML_XINCLUDE_END,
    XML_XINCLUDE_START,
    const_xmlChar,
    xmlAttr,
    xmlNode,
)

cdef extern from "Python.h":
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch) nogil

cetree.import_lxml__etree()

# Tag classes, one bit each (the sets themselves are config.py's, looked up once per tag name).
cdef enum:
    PHRASING = 1
    SHORT_BAR = 2
    ATOMIC = 4
    ATOMIC_PART = 8
    RUN = 16
    HEADING = 32
    BOILERPLATE_TAG = 64

# The bits by name, for the callers that pair each with its set of tag names.
TAG_BITS = {
    "phrasing": PHRASING, "short_bar": SHORT_BAR, "atomic": ATOMIC, "atomic_part": ATOMIC_PART,
    "run": RUN, "heading": HEADING, "boilerplate": BOILERPLATE_TAG,
}

cdef enum:
    CACHE_SLOTS = 1024  # distinct tag names per page; a page with more looks the rest up in Python


class UnexpectedNode(Exception):
    """The tree holds a node the compiled walk does not model: walk it in Python instead."""


cdef struct Span:
    # What the walk needs of a stretch of text, as Python's str.split() sees whitespace.
    Py_ssize_t raw  # code points
    Py_ssize_t chars  # code points that are not whitespace
    Py_ssize_t words
    Py_ssize_t wide  # Han, kana, Hangul (tree.WIDE_CHARS)
    bint lead  # the first code point is not whitespace
    bint trail  # the last code point is not whitespace
    bint anchored  # holds a byte every copyright hint holds one of (ANCHOR): else no hint can match


cdef struct Result:
    bint kept
    Py_ssize_t running
    Py_ssize_t prose
    bint block
    bint pure


cdef struct NodeText:
    # One element's text, measured by the first pass (text_len, or weighted_text_len in recall mode).
    Py_ssize_t raw  # code points of its subtree's text (text_of)
    Py_ssize_t chars  # measure of its subtree's text
    Py_ssize_t text  # measure of its .text
    Py_ssize_t tail  # measure of its .tail
    Py_ssize_t size  # elements in its subtree, itself included: the pre-order index of its next sibling
    bint anchored  # its subtree's text may hold a copyright hint


cdef void* grow(void* data, Py_ssize_t* cap, Py_ssize_t needed, size_t item) except NULL:
    """`data` reallocated to hold at least `needed` items of `item` bytes (doubling); `cap` updated."""
    cdef Py_ssize_t size = max(needed, cap[0] * 2 + 16)
    cdef void* grown = PyMem_Realloc(data, size * item)
    if grown is NULL:
        raise MemoryError()
    cap[0] = size
    return grown


cdef struct Child:
    xmlNode* node
    bint kept
    bint rescued
    int mask


cdef struct Children:
    # A stack of children records: each visit pushes its own above its parent's and pops them on return.
    Child* data
    Py_ssize_t size
    Py_ssize_t cap


cdef int push_child(Children* stack, xmlNode* node, bint kept, int mask) except -1:
    if stack.size == stack.cap:
        stack.data = <Child*> grow(stack.data, &stack.cap, stack.size + 1, sizeof(Child))
    stack.data[stack.size].node, stack.data[stack.size].kept = node, kept
    stack.data[stack.size].rescued, stack.data[stack.size].mask = False, mask
    stack.size += 1
    return 0


cdef struct Vec:
    size_t* data
    Py_ssize_t size
    Py_ssize_t cap


cdef int vec_push(Vec* vec, size_t value) except -1:
    if vec.size == vec.cap:
        vec.data = <size_t*> grow(vec.data, &vec.cap, vec.size + 1, sizeof(size_t))
    vec.data[vec.size] = value
    vec.size += 1
    return 0


cdef struct Buffer:
    char* data
    Py_ssize_t size
    Py_ssize_t cap


cdef int buffer_add(Buffer* buffer, const char* data, Py_ssize_t size) except -1:
    if buffer.size + size > buffer.cap:
        buffer.data = <char*> grow(buffer.data, &buffer.cap, buffer.size + size, 1)
    memcpy(buffer.data + buffer.size, data, size)
    buffer.size += size
    return 0


# Python's str.split() whitespace among ASCII: \t \n \v \f \r, \x1c-\x1f and space.
cdef bint IS_ASCII_SPACE[128]
# Characters one of which each copyright hint holds (configure picks them): ASCII ones by byte,
# others by code point. A text holding none of them holds no hint.
cdef int ANCHOR[128]
cdef Py_UCS4 WIDE_ANCHORS[8]
cdef int WIDE_ANCHORS_N = 0
cdef list HINTS = []  # the hints as UTF-8 bytes
cdef int _b
for _b in range(128):
    IS_ASCII_SPACE[_b] = chr(_b).isspace()
    ANCHOR[_b] = 0


cdef inline bint is_wide(Py_UCS4 cp) noexcept nogil:
    """Mirrors tree.WIDE_CHARS (a test compares the two on every BMP code point)."""
    return (
        (0x1100 <= cp <= 0x11FF) or (0x3040 <= cp <= 0x30FF) or (0x3400 <= cp <= 0x4DBF)
        or (0x4E00 <= cp <= 0x9FFF) or (0xAC00 <= cp <= 0xD7AF) or (0xF900 <= cp <= 0xFAFF)
    )


def wide_code_point(Py_UCS4 cp) -> bool:
    """`is_wide`, for the test that checks it against tree.WIDE_CHARS."""
    return is_wide(cp)


cdef inline Py_ssize_t next_code_point(const unsigned char* s, Py_UCS4* cp) noexcept nogil:
    """Decode the UTF-8 character at `s` into `cp`; return its length in bytes."""
    cdef unsigned char b = s[0]
    if b < 0x80:
        cp[0] = b
        return 1
    if b >= 0xF0:
        cp[0] = ((b & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F)
        return 4
    if b >= 0xE0:
        cp[0] = ((b & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F)
        return 3
    if b >= 0xC0:
        cp[0] = ((b & 0x1F) << 6) | (s[1] & 0x3F)
        return 2
    cp[0] = 0xFFFD  # a stray continuation byte: libxml2 never stores one
    return 1


cdef inline void feed(Span* span, const unsigned char* s) noexcept nogil:
    """Append the UTF-8 text `s` to `span`."""
    cdef Py_UCS4 cp
    cdef unsigned char b
    cdef bint space
    cdef bint in_word = span.raw > 0 and span.trail
    cdef bint first = span.raw == 0
    cdef Py_ssize_t raw = 0, chars = 0, words = 0, wide = 0
    cdef int anchors = 0, anchor
    if s is NULL or s[0] == 0:
        return
    while True:
        b = s[0]
        if b == 0:
            break
        if b < 0x80:
            s += 1
            space = IS_ASCII_SPACE[b]
            anchors |= ANCHOR[b]
        else:
            s += next_code_point(s, &cp)
            space = Py_UNICODE_ISSPACE(cp)
            for anchor in range(WIDE_ANCHORS_N):
                if cp == WIDE_ANCHORS[anchor]:
                    anchors = 1
            wide += is_wide(cp)
        if first:
            span.lead = not space
            first = False
        raw += 1
        if space:
            in_word = False
        else:
            chars += 1
            if not in_word:
                words += 1
                in_word = True
    span.raw += raw
    span.chars += chars
    span.words += words
    span.wide += wide
    span.trail = in_word
    span.anchored |= anchors


cdef inline void concat(Span* span, Span* other) noexcept nogil:
    """span = span followed by other."""
    if other.raw == 0:
        return
    if span.raw == 0:
        span[0] = other[0]
        return
    span.words += other.words - (1 if span.trail and other.lead else 0)
    span.anchored |= other.anchored
    span.raw += other.raw
    span.chars += other.chars
    span.wide += other.wide
    span.trail = other.trail


cdef inline void clear(Span* span) noexcept nogil:
    span.raw = span.chars = span.words = span.wide = 0
    span.lead = span.trail = span.anchored = False


cdef inline bint is_text(xmlNode* node) noexcept nogil:
    return node.type == XML_TEXT_NODE or node.type == XML_CDATA_SECTION_NODE


cdef inline xmlNode* text_or_skip(xmlNode* node) noexcept nogil:
    """lxml's `_textNodeOrSkip`: the text node at `node`, skipping XInclude markers; NULL at anything else."""
    while node is not NULL:
        if is_text(node):
            return node
        if node.type == XML_XINCLUDE_START or node.type == XML_XINCLUDE_END:
            node = node.next
        else:
            return NULL
    return NULL


cdef inline bint is_lxml_element(xmlNode* node) noexcept nogil:
    """What lxml counts as a child of an element (`_isElement`): elements, comments, entity refs, PIs."""
    return node.type == XML_ELEMENT_NODE or node.type == 8 or node.type == 5 or node.type == 7


cdef void run_span(Span* span, xmlNode* node) noexcept nogil:
    """The span of lxml's `.text` (node = the element's first child) or `.tail` (node = its next sibling)."""
    clear(span)
    node = text_or_skip(node)
    while node is not NULL:
        feed(span, <const unsigned char*> node.content)
        node = text_or_skip(node.next)


cdef Py_ssize_t text_len(Span* span, bint weighted) noexcept nogil:
    """tree.text_len (or weighted_text_len) of the text in `span`."""
    if span.words == 0:
        return 0
    return span.chars + span.words - 1 + (span.wide * WIDE_EXTRA if weighted else 0)


cdef Py_ssize_t WIDE_EXTRA = 2


def configure(int wide_weight, hints) -> None:
    """Take the weight of a wide character (tree.WIDE_WEIGHT) and the copyright hints
    (boilerplate.COPYRIGHT_HINTS) from the Python modules, so the two walks share them.

    The anchors are a small set of characters that every hint holds one of, chosen greedily
    (the character found in the most hints first, non-letters first on a tie).
    """
    global WIDE_EXTRA, WIDE_ANCHORS_N, HINTS
    WIDE_EXTRA = wide_weight - 1
    HINTS = [hint.encode("utf-8") for hint in hints]
    uncovered = [hint for hint in hints if hint]
    anchors = []
    while uncovered:
        counts = {letter: sum(letter in hint for hint in uncovered) for hint in uncovered for letter in hint}
        best = max(counts, key=lambda letter: (counts[letter], not letter.isalpha(), -ord(letter)))
        anchors.append(best)
        uncovered = [hint for hint in uncovered if best not in hint]
    wide = [letter for letter in anchors if not letter.isascii()]
    if len(wide) > 8:
        raise ValueError("copyright hints need more than 8 non-ASCII anchors")
    for code in range(128):
        ANCHOR[code] = chr(code) in anchors
    for index, letter in enumerate(wide):
        WIDE_ANCHORS[index] = ord(letter)
    WIDE_ANCHORS_N = len(wide)


def text_measures(str text) -> tuple:
    """(code points, text_len, weighted_text_len) of `text` as the walk counts them, for the tests."""
    cdef Span span
    cdef bytes utf8 = text.encode("utf-8")
    clear(&span)
    feed(&span, <const unsigned char*> utf8)
    return span.raw, text_len(&span, False), text_len(&span, True)


cdef inline xmlNode* after(xmlNode* node, xmlNode* top) noexcept nogil:
    """The node after `node` and its subtree in document order, within `top`'s subtree (NULL at its end)."""
    while node.next is NULL:
        node = node.parent
        if node is top or node is NULL:
            return NULL
    return node.next


cdef int subtree_text(xmlNode* top, Span* span) except -1:
    """The span of every text node under `top` (lxml's `text_of`); UnexpectedNode at a node type it does not model."""
    cdef xmlNode* node = top.children
    clear(span)
    while node is not NULL:
        if node.type == XML_ELEMENT_NODE and node.children is not NULL:
            node = node.children
            continue
        if is_text(node):
            feed(span, <const unsigned char*> node.content)
        elif node.type != XML_ELEMENT_NODE and node.type != XML_XINCLUDE_START and node.type != XML_XINCLUDE_END:
            raise UnexpectedNode(node.type)
        node = after(node, top)
    return 0


cdef bytes attribute(xmlNode* node, const char* name):
    """The value of attribute `name` (no namespace), as UTF-8 bytes; None when absent."""
    cdef xmlAttr* attr = node.properties
    cdef xmlNode* text
    cdef bytes value
    while attr is not NULL:
        if attr.ns is NULL and strcmp(<const char*> attr.name, name) == 0:
            value = b""
            text = attr.children
            while text is not NULL:
                if text.content is not NULL:
                    value += <bytes> (<char*> text.content)
                text = text.next
            return value
        attr = attr.next
    return None


cdef bint contains(const unsigned char* text, Py_ssize_t n, const char* word, Py_ssize_t w) noexcept nogil:
    """Whether `text` holds the bytes of `word`."""
    cdef const unsigned char* at = text
    cdef const unsigned char* end = text + n - w
    if w == 0:
        return True
    while at <= end:
        at = <const unsigned char*> memchr(at, word[0], end - at + 1)
        if at is NULL:
            return False
        if memcmp(at, word, w) == 0:
            return True
        at += 1
    return False


cdef class Tags:
    """The tag-class bits of each tag name, looked up in Python once per name and cached by the name's
    pointer (libxml2 interns a document's names)."""

    cdef tuple tag_classes
    cdef size_t cache_keys[CACHE_SLOTS]
    cdef int cache_masks[CACHE_SLOTS]

    def __cinit__(self, tag_classes):
        cdef int i
        self.tag_classes = tuple(tag_classes)
        for i in range(CACHE_SLOTS):
            self.cache_keys[i] = 0

    cdef int mask(self, xmlNode* node) except -1:
        """The tag-class bits of `node`'s tag name, cached by the name's interned pointer."""
        cdef size_t key = <size_t> node.name ^ (<size_t> node.ns << 1)
        cdef size_t slot = (key >> 3) % CACHE_SLOTS
        cdef int probes, mask = 0
        for probes in range(8):
            if self.cache_keys[slot] == key:
                return self.cache_masks[slot]
            if self.cache_keys[slot] == 0:
                break
            slot = (slot + 1) % CACHE_SLOTS
        tag = cetree.namespacedName(node)
        for bit, tags in self.tag_classes:
            if tag in tags:
                mask |= bit
        if self.cache_keys[slot] == 0:
            self.cache_keys[slot] = key
            self.cache_masks[slot] = mask
        return mask


cdef class Decider:
    """One page's walk: the settings, the tag-class cache, and the decisions gathered so far."""

    cdef object callbacks
    cdef Tags tags
    cdef cetree._Document doc
    cdef xmlNode* root
    cdef bint recall, words_plain
    cdef Py_ssize_t min_chars, min_chars_short, max_copyright, lowest_bar, short_raw, max_depth
    cdef double max_link_share
    cdef tuple dialog_roles, boilerplate_roles, boilerplate_words
    cdef const char** words  # the boilerplate words as given (a word with capitals never matches)
    cdef Py_ssize_t* word_sizes
    cdef Py_ssize_t words_n
    cdef Vec drops, hidden, loose, loose_starts, loose_children, boilerplate, boilerplate_prose
    cdef Children blocks, phrasing
    cdef NodeText* nodes
    cdef Py_ssize_t nodes_n, nodes_cap
    cdef Buffer text  # a small subtree's text, for the copyright test

    def __dealloc__(self):
        PyMem_Free(self.words)
        PyMem_Free(self.word_sizes)
        PyMem_Free(self.drops.data)
        PyMem_Free(self.hidden.data)
        PyMem_Free(self.loose.data)
        PyMem_Free(self.loose_starts.data)
        PyMem_Free(self.loose_children.data)
        PyMem_Free(self.boilerplate.data)
        PyMem_Free(self.boilerplate_prose.data)
        PyMem_Free(self.text.data)
        PyMem_Free(self.blocks.data)
        PyMem_Free(self.nodes)
        PyMem_Free(self.phrasing.data)

    cdef bint is_hidden(self, xmlNode* node) except -1:
        """boilerplate.is_hidden."""
        if attribute(node, b"hidden") is not None:
            return True
        return attribute(node, b"role") in self.dialog_roles or attribute(node, b"aria-modal") == b"true"

    cdef bint is_boilerplate(self, xmlNode* node, int mask) except -1:
        """boilerplate.is_boilerplate: the tag, the role, then the class/id words, tested here on an
        ASCII value; a value beyond ASCII goes to Python (IGNORECASE and lower() reach past ASCII)."""
        if mask & BOILERPLATE_TAG or attribute(node, b"role") in self.boilerplate_roles:
            return True
        cdef xmlAttr* attr = node.properties
        cdef int found
        while attr is not NULL:
            if attr.ns is NULL and (strcmp(<const char*> attr.name, b"class") == 0
                                    or strcmp(<const char*> attr.name, b"id") == 0):
                if attr.children is NULL:
                    found = 0  # an empty value holds no word
                elif not self.words_plain or attr.children.next is not NULL or attr.children.content is NULL:
                    found = -1
                else:
                    found = self.has_word(<const unsigned char*> attr.children.content)
                if found < 0:
                    return self.callbacks.is_boilerplate(cetree.elementFactory(self.doc, node))
                if found:
                    return True
            attr = attr.next
        return False

    cdef int has_word(self, const unsigned char* value) except -2:
        """Whether ASCII `value`, split as is_boilerplate splits it (punctuation, camelCase, then
        lower-cased), holds one of the boilerplate words: 1 or 0; -1 for a value beyond ASCII."""
        cdef char token[64]
        cdef Py_ssize_t length = 0, at = 0, index
        cdef unsigned char c, previous = 0
        cdef bint alnum, too_long = False
        while True:
            c = value[at]
            if c >= 0x80:
                return -1
            alnum = (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122)
            if (not alnum or (65 <= c <= 90 and ((97 <= previous <= 122) or (48 <= previous <= 57)))) and (
                length or too_long
            ):
                if not too_long:
                    for index in range(self.words_n):
                        if self.word_sizes[index] == length and memcmp(token, self.words[index], length) == 0:
                            return 1
                length, too_long = 0, False
            if c == 0:
                return 0
            if alnum:
                if length < 64:
                    token[length] = c + 32 if 65 <= c <= 90 else c
                    length += 1
                else:
                    too_long = True
            previous = c
            at += 1

    cdef bint is_copyright_block(self, xmlNode* node) except -1:
        """Whether `node`'s text mentions a copyright: byte hints, then boilerplate.mentions_copyright."""
        cdef xmlNode* text = node.children
        self.text.size = 0
        while text is not NULL:  # the subtree's text, UTF-8, into self.text
            if text.type == XML_ELEMENT_NODE and text.children is not NULL:
                text = text.children
                continue
            if is_text(text) and text.content is not NULL:
                buffer_add(&self.text, <const char*> text.content, strlen(<const char*> text.content))
            text = after(text, node)
        for hint in HINTS:
            if contains(<const unsigned char*> self.text.data, self.text.size, <const char*> hint, len(<bytes> hint)):
                return self.callbacks.mentions_copyright(self.text.data[: self.text.size].decode("utf-8"))
        return False

    cdef int measure(self, xmlNode* node, int depth, Span* span) except -1:
        """First pass, bottom-up: the text measures of every element, stored by pre-order index.

        Each text node is read once. Below max_depth only the subtree's text is taken (the
        second pass stops there).
        """
        cdef Py_ssize_t index = self.nodes_n, child_index
        cdef Span piece, child_span
        cdef xmlNode* child
        if self.nodes_n == self.nodes_cap:
            self.nodes = <NodeText*> grow(self.nodes, &self.nodes_cap, self.nodes_n + 1, sizeof(NodeText))
        self.nodes_n += 1
        if depth > self.max_depth:
            subtree_text(node, span)
        else:
            run_span(span, node.children)
            self.nodes[index].text = text_len(span, self.recall)
            child = node.children
            while child is not NULL:
                if is_lxml_element(child):
                    if child.type != XML_ELEMENT_NODE:
                        raise UnexpectedNode(child.type)
                    child_index = self.nodes_n
                    self.measure(child, depth + 1, &child_span)
                    concat(span, &child_span)
                    run_span(&piece, child.next)
                    self.nodes[child_index].tail = text_len(&piece, self.recall)
                    concat(span, &piece)
                child = child.next
        self.nodes[index].raw = span.raw
        self.nodes[index].anchored = span.anchored
        self.nodes[index].chars = text_len(span, self.recall)
        self.nodes[index].size = self.nodes_n - index
        return 0

    cdef int visit(self, xmlNode* node, Py_ssize_t index, int depth, Result* out) except -1:
        """Second pass: text_rule._Walk.visit, line for line, with the text measures of the first."""
        cdef NodeText* measured = self.nodes + index
        cdef int mask, child_mask
        cdef Py_ssize_t running, prose, index_of_child, at
        cdef Py_ssize_t blocks_base = self.blocks.size, phrasing_base = self.phrasing.size
        cdef Py_ssize_t drops_start = self.drops.size, loose_start = self.loose.size
        cdef Py_ssize_t loose_children_start = self.loose_children.size
        cdef bint any_kept = False, pure = True, passes, block, kept
        cdef Result child_result
        cdef xmlNode* child
        cdef Child* blocks
        if depth > self.max_depth:
            raise self.callbacks.reject_too_deep()
        mask = self.tags.mask(node)
        block = not (mask & PHRASING)
        if measured.raw <= self.short_raw:
            if measured.chars <= self.max_copyright and measured.anchored and self.is_copyright_block(node):
                out.kept, out.running, out.prose, out.block, out.pure = False, 0, 0, True, False
                return 0
            if measured.chars < self.lowest_bar:
                out.kept, out.prose, out.block, out.pure = False, 0, block, True
                out.running = 0 if block else measured.chars
                return 0
        running = measured.text
        prose = 0
        index_of_child = index + 1
        try:
            child = node.children
            while child is not NULL:
                if not is_lxml_element(child):
                    child = child.next
                    continue
                at = index_of_child
                index_of_child += self.nodes[at].size
                if child.properties is not NULL and self.is_hidden(child):
                    vec_push(&self.hidden, <size_t> child)
                    child = child.next
                    continue
                self.visit(child, at, depth + 1, &child_result)
                child_mask = self.tags.mask(child)
                any_kept |= child_result.kept
                prose += child_result.prose
                pure &= child_result.pure and (not child_result.block or (child_mask & ATOMIC_PART) != 0)
                if child_result.block:
                    block = True
                    push_child(&self.blocks, child, child_result.kept, child_mask)
                else:
                    running += child_result.running
                    push_child(&self.phrasing, child, child_result.kept, child_mask)
                running += self.nodes[at].tail
                child = child.next
            passes = running >= (self.min_chars_short if mask & SHORT_BAR else self.min_chars)
            if passes and self.recall and not self.prose_like(node):
                passes = False
            if passes:
                prose += running
            kept = passes or any_kept
            if kept and mask & ATOMIC and pure:
                self.drops.size = drops_start
                self.loose.size = self.loose_starts.size = loose_start
                self.loose_children.size = loose_children_start
            elif kept:
                blocks = self.blocks.data + blocks_base
                if self.recall:
                    self.rescue(blocks, self.blocks.size - blocks_base)
                for at in range(self.blocks.size - blocks_base):
                    if not blocks[at].kept and not blocks[at].rescued:
                        vec_push(&self.drops, <size_t> blocks[at].node)
                if not passes and (running or self.phrasing.size > phrasing_base):
                    vec_push(&self.loose, <size_t> node)
                    vec_push(&self.loose_starts, <size_t> self.loose_children.size)
                    for at in range(phrasing_base, self.phrasing.size):
                        if not self.phrasing.data[at].kept:
                            vec_push(&self.loose_children, <size_t> self.phrasing.data[at].node)
        finally:
            self.blocks.size, self.phrasing.size = blocks_base, phrasing_base
        if (mask & BOILERPLATE_TAG or node.properties is not NULL) and node is not self.root:
            if self.is_boilerplate(node, mask):
                vec_push(&self.boilerplate, <size_t> node)
                vec_push(&self.boilerplate_prose, <size_t> prose)
                pure = False
        out.kept, out.running, out.prose, out.block = kept, running, prose, block
        out.pure = pure and not (mask & ATOMIC)
        return 0

    cdef bint prose_like(self, xmlNode* node) except -1:
        """text_rule.prose_like: some text, no copyright notice, at most max_link_share of it in links."""
        cdef Span span
        cdef Py_ssize_t chars, links = 0
        cdef xmlNode* at = node
        subtree_text(node, &span)
        chars = text_len(&span, False)
        if chars == 0 or (chars <= self.max_copyright and span.anchored and self.is_copyright_block(node)):
            return False
        while at is not NULL:  # element.iter("a"): the element itself, then its descendants
            if at.type == XML_ELEMENT_NODE:
                if at.ns is NULL and strcmp(<const char*> at.name, b"a") == 0:
                    subtree_text(at, &span)
                    links += text_len(&span, False)
                if at.children is not NULL:
                    at = at.children
                    continue
            at = NULL if at is node else after(at, node)
        return links <= self.max_link_share * chars

    cdef int rescue(self, Child* children, Py_ssize_t n) except -1:
        """text_rule._Walk._rescued: mark the failing prose blocks inside a run of kept ones."""
        cdef Py_ssize_t index
        cdef bint seen = False, seen_after = False, before, heading_first
        cdef char* kept_before = <char*> PyMem_Malloc(n + 1)
        if kept_before is NULL:
            raise MemoryError()
        try:
            for index in range(n):
                seen = children[index].kept or (seen and (children[index].mask & RUN) != 0)
                kept_before[index] = seen
            for index in range(n - 1, -1, -1):
                if not children[index].kept and children[index].mask & RUN:
                    before = index > 0 and kept_before[index - 1]
                    heading_first = (
                        (children[index].mask & HEADING) != 0 and index + 1 < n and children[index + 1].kept
                    )
                    if ((before and seen_after) or heading_first) and self.prose_like(children[index].node):
                        children[index].rescued = True
                seen_after = children[index].kept or (seen_after and (children[index].mask & RUN) != 0)
        finally:
            PyMem_Free(kept_before)
        return 0

    cdef list elements(self, Vec* vec, Py_ssize_t start, Py_ssize_t stop):
        return [cetree.elementFactory(self.doc, <xmlNode*> vec.data[index]) for index in range(start, stop)]


def decide(cetree._Element body, config, callbacks, tag_classes, dialog_roles,
           boilerplate_roles, boilerplate_words):
    """Walk `body` as text_rule._Walk does; return (kept, page_prose, drops, hidden, loose, boilerplate).

    Returns None when the tree holds a node this walk does not model (UnexpectedNode).
    `callbacks` has mentions_copyright(text), is_boilerplate(element) and reject_too_deep(); `tag_classes` pairs each tag-class bit with its set of tag names.
    """
    cdef Decider walk = Decider()
    cdef Result result
    cdef Span span
    cdef Py_ssize_t index, stop
    if config.max_depth > 5000:
        return None  # the first pass recurses to max_depth: leave deeper limits to the Python walk
    walk.callbacks, walk.doc, walk.root = callbacks, body._doc, body._c_node
    walk.tags = Tags(tag_classes)
    walk.recall = config.mode == "recall"
    walk.min_chars, walk.min_chars_short = config.min_text_chars, config.min_text_chars_short
    walk.max_copyright, walk.max_depth = config.max_copyright_chars, config.max_depth
    walk.max_link_share = config.max_link_share
    walk.lowest_bar = min(config.min_text_chars, config.min_text_chars_short)
    walk.short_raw = 8 * max(walk.lowest_bar, config.max_copyright_chars)
    walk.dialog_roles = tuple(role.encode("utf-8") for role in dialog_roles)
    walk.boilerplate_roles = tuple(role.encode("utf-8") for role in boilerplate_roles)
    walk.words_plain = all(word.isascii() and word.isalnum() for word in boilerplate_words)
    walk.boilerplate_words = tuple(word.encode("utf-8") for word in boilerplate_words)
    walk.words_n = len(walk.boilerplate_words)
    walk.words = <const char**> PyMem_Malloc((walk.words_n + 1) * sizeof(char*))
    walk.word_sizes = <Py_ssize_t*> PyMem_Malloc((walk.words_n + 1) * sizeof(Py_ssize_t))
    if walk.words is NULL or walk.word_sizes is NULL:
        raise MemoryError()
    for index, word in enumerate(walk.boilerplate_words):
        walk.words[index], walk.word_sizes[index] = <const char*> word, len(word)
    try:
        walk.measure(body._c_node, 0, &span)
    except UnexpectedNode:
        return None
    walk.nodes[0].tail = 0
    walk.visit(body._c_node, 0, 0, &result)
    loose = []
    for index in range(walk.loose.size):
        stop = walk.loose_starts.data[index + 1] if index + 1 < walk.loose.size else walk.loose_children.size
        loose.append((
            cetree.elementFactory(walk.doc, <xmlNode*> walk.loose.data[index]),
            walk.elements(&walk.loose_children, walk.loose_starts.data[index], stop),
        ))
    boilerplate = [
        (cetree.elementFactory(walk.doc, <xmlNode*> walk.boilerplate.data[index]), walk.boilerplate_prose.data[index])
        for index in range(walk.boilerplate.size)
    ]
    return (
        result.kept,
        result.prose,
        walk.elements(&walk.drops, 0, walk.drops.size),
        walk.elements(&walk.hidden, 0, walk.hidden.size),
        loose,
        boilerplate,
    )


# ---------------------------------------------------------------------------------------------
# The passes after the text rule (tidy.py): the same rules, applied on libxml2's nodes; an edit
# the C API offers is made here (text, removing an attribute), the rare structural ones (folding
# a <div>, unwrapping a link, renaming a <p>, dropping empty shells) are handed back to Python.

cdef inline bint is_space(Py_UCS4 cp) noexcept nogil:
    return IS_ASCII_SPACE[cp] if cp < 128 else Py_UNICODE_ISSPACE(cp)


cdef inline bint is_control(Py_UCS4 cp) noexcept nogil:
    """config.CONTROL_CHARS: [\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]."""
    return cp <= 8 or cp == 11 or cp == 12 or (14 <= cp <= 31) or cp == 127


cdef int run_bytes(xmlNode* node, Buffer* into) except -1:
    """lxml's `.text` / `.tail` run starting at `node`, as UTF-8; returns its number of text nodes (0: None)."""
    cdef int count = 0
    node = text_or_skip(node)
    while node is not NULL:
        if node.content is not NULL:
            buffer_add(into, <const char*> node.content, strlen(<const char*> node.content))
        count += 1
        node = text_or_skip(node.next)
    return count


cdef int collapse_keep_edges(Buffer* text, Buffer* out, bint strip_left, bint strip_right) except -1:
    """tree.collapse_keep_edges(text), then .lstrip() / .rstrip() as asked."""
    cdef Py_ssize_t at = 0, step
    cdef Py_UCS4 cp
    cdef bint pending = False, first_space = False, last_space = False, any_word = False
    out.size = 0
    while at < text.size:
        step = next_code_point(<const unsigned char*> text.data + at, &cp)
        if is_space(cp):
            if at == 0:
                first_space = True
            last_space = True
            pending = any_word
        else:
            last_space = False
            if pending:
                buffer_add(out, b" ", 1)
                pending = False
            buffer_add(out, text.data + at, step)
            any_word = True
        at += step
    if not any_word:
        if text.size and not (strip_left or strip_right):
            buffer_add(out, b" ", 1)
        return 0
    if first_space and not strip_left:
        buffer_add(out, b" ", 1)
        memmove(out.data + 1, out.data, out.size - 1)
        out.data[0] = 32
    if last_space and not strip_right:
        buffer_add(out, b" ", 1)
    return 0


cdef bint lxml_accepts(Buffer* text) noexcept nogil:
    """Whether lxml's text setter takes these bytes (no C0 controls but tab/LF/CR, no U+FFFE/U+FFFF)."""
    cdef Py_ssize_t at
    cdef unsigned char b
    for at in range(text.size):
        b = <unsigned char> text.data[at]
        if b < 32 and b != 9 and b != 10 and b != 13:
            return False
        if b == 0xEF and at + 2 < text.size and <unsigned char> text.data[at + 1] == 0xBF and (
            <unsigned char> text.data[at + 2] == 0xBE or <unsigned char> text.data[at + 2] == 0xBF
        ):
            return False
    return True


cdef bint blank_run(xmlNode* node, Buffer* text) except -1:
    """tree.has_text is false for the `.text`/`.tail` run at `node`: there is none, or it is all whitespace."""
    cdef Py_ssize_t at = 0
    cdef Py_UCS4 cp
    text.size = 0
    if run_bytes(node, text) == 0:
        return True
    while at < text.size:
        at += next_code_point(<const unsigned char*> text.data + at, &cp)
        if not is_space(cp):
            return False
    return True


cdef class Tidy:
    """One body's passes after the text rule; see tidy.py for each rule."""

    cdef Tags tags
    cdef cetree._Document doc
    cdef xmlNode* body
    cdef object callbacks
    cdef Buffer text, out
    cdef list keep  # attribute names kept, as bytes (None: leave attributes alone)
    cdef list fold_candidates, paragraphs, nested_links  # None: not wanted
    cdef bint whitespace

    def __dealloc__(self):
        PyMem_Free(self.text.data)
        PyMem_Free(self.out.data)

    cdef object proxy(self, xmlNode* node):
        return cetree.elementFactory(self.doc, node)

    cdef bint is_phrasing(self, xmlNode* node) except -1:
        return node.type == XML_ELEMENT_NODE and (self.tags.mask(node) & PHRASING) != 0

    cdef int strip_attributes(self, xmlNode* node) except -1:
        """tidy.strip_attributes for one element; values that need collapsing go to Python."""
        cdef xmlAttr* attr = node.properties
        cdef xmlAttr* following
        cdef const unsigned char* value
        cdef Py_ssize_t at, step
        cdef Py_UCS4 cp
        cdef bint clean, previous_space
        cdef const_xmlChar* href
        while attr is not NULL:
            following = attr.next
            if attr.ns is NULL and <bytes> attr.name in self.keep:
                clean = attr.children is not NULL and attr.children.next is NULL and attr.children.content is not NULL
                if clean:
                    value = <const unsigned char*> attr.children.content
                    at = 0
                    previous_space = True  # a leading space is not clean
                    while value[at] != 0:
                        step = next_code_point(value + at, &cp)
                        if is_control(cp) or (is_space(cp) and (cp != 32 or previous_space)):
                            clean = False
                            break
                        previous_space = cp == 32
                        at += step
                    clean = clean and at > 0 and not previous_space
                if not clean:
                    self.callbacks.collapse_attribute(self.proxy(node), (<bytes> attr.name).decode("utf-8"))
            else:
                href = NULL
                if attr.ns is not NULL:
                    href = attr.ns.href
                cetree.delAttributeFromNsName(node, href, attr.name)
            attr = following
        return 0

    cdef bint is_fold_candidate(self, xmlNode* node) except -1:
        """A <div> whose only child is a <div>, with no text before it or after it (tidy.fold_divs)."""
        cdef xmlNode* child = node.children
        cdef xmlNode* only = NULL
        if node.ns is not NULL or strcmp(<const char*> node.name, b"div") != 0:
            return False
        while child is not NULL:
            if is_lxml_element(child):
                if only is not NULL:
                    return False
                only = child
            child = child.next
        if only is NULL or only.type != XML_ELEMENT_NODE or only.ns is not NULL:
            return False
        if strcmp(<const char*> only.name, b"div") != 0:
            return False
        return blank_run(node.children, &self.text) and blank_run(only.next, &self.text)

    cdef int first_pass(self, xmlNode* node) except -1:
        """Attributes stripped, or <div> chains to fold noted (in document order)."""
        cdef xmlNode* child
        if self.keep is not None and node.properties is not NULL:
            self.strip_attributes(node)
        if self.fold_candidates is not None and self.is_fold_candidate(node):
            self.fold_candidates.append(self.proxy(node))
        child = node.children
        while child is not NULL:
            if child.type == XML_ELEMENT_NODE:
                self.first_pass(child)
            child = child.next
        return 0

    cdef int set_run(self, xmlNode* node, bint tail, bint strip_left, bint strip_right) except -1:
        """tidy.normalize_whitespace for the `.text` (or `.tail`) of `node`."""
        cdef int count
        self.text.size = 0
        count = run_bytes(node.next if tail else node.children, &self.text)
        if count == 0:
            return 0  # None stays None
        collapse_keep_edges(&self.text, &self.out, strip_left, strip_right)
        if count == 1 and self.out.size == self.text.size and memcmp(self.out.data, self.text.data, self.text.size) == 0:
            return 0
        value = PyUnicode_DecodeUTF8(self.out.data, self.out.size, NULL) if self.out.size else None
        if not lxml_accepts(&self.out):
            self.callbacks.set_text(self.proxy(node), "tail" if tail else "text", value or "")
        elif tail:
            cetree.setTailText(node, value)
        else:
            cetree.setNodeText(node, value)
        return 0

    cdef bint second_pass(self, xmlNode* node, bint preformatted, bint in_link) except -1:
        """Whitespace normalised; <p>s holding blocks and links inside links noted. Returns whether
        `node`'s subtree holds a non-phrasing element (for the <p> rule)."""
        cdef xmlNode* child
        cdef xmlNode* first = NULL
        cdef xmlNode* following
        cdef bint block = not self.is_phrasing(node), holds_block = False, is_link
        preformatted = preformatted or (node.ns is NULL and strcmp(<const char*> node.name, b"pre") == 0)
        is_link = node.ns is NULL and strcmp(<const char*> node.name, b"a") == 0
        if is_link and in_link and self.nested_links is not None:
            self.nested_links.append(self.proxy(node))
        if self.whitespace and not preformatted:
            child = node.children
            while child is not NULL and first is NULL:
                if is_lxml_element(child):
                    first = child
                child = child.next
            self.set_run(
                node, False, block,
                (block and (first is NULL or not self.is_phrasing(first)))
                or (not block and first is not NULL and not self.is_phrasing(first)),
            )  # fmt: skip
            if node is not self.body:
                following = node.next
                while following is not NULL and not is_lxml_element(following):
                    following = following.next
                self.set_run(
                    node, True, block,
                    (following is NULL and not self.is_phrasing(node.parent))
                    or (following is not NULL and not self.is_phrasing(following)),
                )  # fmt: skip
        child = node.children
        while child is not NULL:
            if child.type == XML_ELEMENT_NODE:
                holds_block |= self.second_pass(child, preformatted, in_link or is_link)
                holds_block |= not self.is_phrasing(child)
            elif is_lxml_element(child):
                holds_block = True  # a comment or PI: tidy.repair_nesting's test counts it too
            child = child.next
        if holds_block and self.paragraphs is not None and node.ns is NULL and strcmp(<const char*> node.name, b"p") == 0:
            self.paragraphs.append(self.proxy(node))
        return holds_block


cdef Tidy new_tidy(cetree._Element body, tag_classes, callbacks):
    cdef Tidy tidy = Tidy()
    tidy.tags, tidy.doc, tidy.body, tidy.callbacks = Tags(tag_classes), body._doc, body._c_node, callbacks
    return tidy


def strip_attributes(cetree._Element body, keep, callbacks) -> None:
    """tidy.strip_attributes over `body` (names with a namespace are never in `keep`)."""
    cdef Tidy tidy = new_tidy(body, (), callbacks)
    tidy.keep = [name.encode("utf-8") for name in keep]
    tidy.first_pass(body._c_node)


def fold_candidates(cetree._Element body) -> list:
    """The <div>s tidy.fold_divs folds something into, in document order (the others it leaves)."""
    cdef Tidy tidy = new_tidy(body, (), None)
    tidy.fold_candidates = []
    tidy.first_pass(body._c_node)
    return tidy.fold_candidates


def normalize_whitespace(cetree._Element body, tag_classes, callbacks) -> None:
    """tidy.normalize_whitespace over `body`."""
    cdef Tidy tidy = new_tidy(body, tag_classes, callbacks)
    tidy.whitespace = True
    tidy.second_pass(body._c_node, False, False)


def nesting_repairs(cetree._Element body, tag_classes) -> tuple:
    """What tidy.repair_nesting changes: (the <p>s holding a block, the links inside links)."""
    cdef Tidy tidy = new_tidy(body, tag_classes, None)
    tidy.paragraphs, tidy.nested_links = [], []
    tidy.second_pass(body._c_node, False, False)
    return tidy.paragraphs, tidy.nested_links


def empty_elements(cetree._Element body) -> list:
    """tidy.remove_empty's decision: the top-most descendants of `body` left with no text and no
    children but empty ones (a <br> is never empty), in document order."""
    cdef list found = []
    cdef Buffer text
    text.data, text.size, text.cap = NULL, 0, 0
    try:
        _empty(body._c_node, body._doc, &text, found, True)
    finally:
        PyMem_Free(text.data)
    return found


cdef bint _empty(xmlNode* node, cetree._Document doc, Buffer* text, list found, bint is_body) except -1:
    """Whether `node` is empty; appends its top-most empty descendants to `found` when it is not."""
    cdef xmlNode* child
    cdef bint empty = not is_body and not (node.ns is NULL and strcmp(<const char*> node.name, b"br") == 0)
    cdef bint child_empty
    cdef Py_ssize_t start = len(found)
    empty = empty and blank_run(node.children, text)
    child = node.children
    while child is not NULL:
        if child.type == XML_ELEMENT_NODE:
            child_empty = _empty(child, doc, text, found, False)
            if child_empty:
                found.append(cetree.elementFactory(doc, child))
            empty = empty and child_empty and blank_run(child.next, text)
        elif is_lxml_element(child):
            empty = False
        child = child.next
    if empty:
        del found[start:]  # the parent goes whole
    return empty


def collapsed_text(cetree._Element element) -> str:
    """tree.collapse(tree.text_of(element)): the subtree's text, control characters removed, whitespace
    runs made one space, ends stripped."""
    cdef Buffer out
    cdef xmlNode* node = element._c_node.children
    cdef const unsigned char* s
    cdef const unsigned char* word
    cdef Py_ssize_t step
    cdef Py_UCS4 cp
    cdef bint pending = False
    out.data, out.size, out.cap = NULL, 0, 0
    try:
        while node is not NULL:
            if node.type == XML_ELEMENT_NODE and node.children is not NULL:
                node = node.children
                continue
            if is_text(node) and node.content is not NULL:
                s = word = <const unsigned char*> node.content
                while True:
                    step = next_code_point(s, &cp) if s[0] != 0 else 0
                    if step == 0 or is_control(cp) or is_space(cp):
                        if s > word:  # a stretch of kept characters ends here
                            if pending:
                                buffer_add(&out, b" ", 1)
                                pending = False
                            buffer_add(&out, <const char*> word, s - word)
                        if step == 0:
                            break
                        if not is_control(cp):
                            pending = out.size > 0
                        word = s + step
                    s += step
            node = after(node, element._c_node)
        return PyUnicode_DecodeUTF8(out.data, out.size, NULL)
    finally:
        PyMem_Free(out.data)


def has_control_characters(str text) -> bool:
    """config.CONTROL_CHARS.search(text) is not None."""
    cdef Py_UCS4 ch
    for ch in text:
        if is_control(ch):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Removing subtrees without libxml2's functions: a removed node is unlinked and appended to a
# `trash` element outside the body (in the same document), which libxml2 frees with the document.

cdef inline void unlink_node(xmlNode* node) noexcept nogil:
    if node.prev is not NULL:
        node.prev.next = node.next
    else:
        node.parent.children = node.next
    if node.next is not NULL:
        node.next.prev = node.prev
    else:
        node.parent.last = node.prev
    node.parent = node.prev = node.next = NULL


cdef inline void append_node(xmlNode* parent, xmlNode* node) noexcept nogil:
    node.parent, node.prev, node.next = parent, parent.last, NULL
    if parent.last is not NULL:
        parent.last.next = node
    else:
        parent.children = node
    parent.last = node


cdef class PointerSet:
    """A set of node pointers (open addressing), for membership tests in C."""

    cdef size_t* slots
    cdef size_t mask

    def __cinit__(self, Py_ssize_t expected):
        cdef size_t size = 16
        while size < <size_t> (2 * expected + 1):
            size *= 2
        self.slots = <size_t*> PyMem_Malloc(size * sizeof(size_t))
        if self.slots is NULL:
            raise MemoryError()
        memset(self.slots, 0, size * sizeof(size_t))
        self.mask = size - 1

    def __dealloc__(self):
        PyMem_Free(self.slots)

    cdef bint add(self, size_t key) noexcept:
        """Add `key`; False when it was there already."""
        cdef size_t slot = (key >> 4) & self.mask
        while self.slots[slot] != 0:
            if self.slots[slot] == key:
                return False
            slot = (slot + 1) & self.mask
        self.slots[slot] = key
        return True

    cdef bint has(self, size_t key) noexcept:
        cdef size_t slot = (key >> 4) & self.mask
        while self.slots[slot] != 0:
            if self.slots[slot] == key:
                return True
            slot = (slot + 1) & self.mask
        return False


def drop_trees(cetree._Element trash, list elements, callbacks) -> None:
    """tree.drop_trees: each element goes, its tail staying where it was.

    tree.drop_trees re-sets the text before each run of dropped siblings (joined with their
    tails), and lxml refuses some control characters there, which set_text then strips; the
    texts here are left in place, so the ones lxml would refuse are handed to set_text too.
    """
    cdef PointerSet dropped = PointerSet(len(elements))
    cdef PointerSet settled = PointerSet(len(elements))
    cdef list nodes = [], owners = []
    cdef xmlNode* node
    cdef xmlNode* owner
    cdef size_t key, slot
    cdef Buffer text
    for element in elements:
        node = (<cetree._Element> element)._c_node
        if node.parent is not NULL and node.parent.type == XML_ELEMENT_NODE and dropped.add(<size_t> node):
            nodes.append(<size_t> node)
    for key in nodes:  # the text each run of dropped siblings joins: a survivor's tail, or the parent's text
        node = <xmlNode*> key
        owner = node.prev
        while owner is not NULL and not is_lxml_element(owner):
            owner = owner.prev
        if owner is not NULL and dropped.has(<size_t> owner):
            continue  # inside a run: its first node finds the run's text
        slot = (<size_t> owner | 1) if owner is not NULL else <size_t> node.parent  # bit 0: the tail
        if settled.add(slot):
            owners.append(slot)
    for key in nodes:
        unlink_node(<xmlNode*> key)
        append_node(trash._c_node, <xmlNode*> key)
    text.data, text.size, text.cap = NULL, 0, 0
    try:
        for key in owners:
            owner = <xmlNode*> (key & ~(<size_t> 1))
            text.size = 0
            run_bytes(owner.next if key & 1 else owner.children, &text)
            if not lxml_accepts(&text):
                callbacks.set_text(
                    cetree.elementFactory(trash._doc, owner), "tail" if key & 1 else "text",
                    PyUnicode_DecodeUTF8(text.data, text.size, NULL),
                )  # fmt: skip
    finally:
        PyMem_Free(text.data)


def strip_elements(cetree._Element trash, cetree._Element body, tags) -> None:
    """etree.strip_elements(body, *tags, with_tail=False): every descendant with one of these
    (namespace-less) tag names goes with its subtree, its tail staying where it was."""
    cdef Tags names = Tags(((1, frozenset(tags)),))
    _strip(trash._c_node, body._c_node, names)


cdef int _strip(xmlNode* trash, xmlNode* node, Tags names) except -1:
    cdef xmlNode* child = node.children
    cdef xmlNode* following
    while child is not NULL:
        following = child.next
        if child.type == XML_ELEMENT_NODE:
            if child.ns is NULL and names.mask(child) & 1:
                unlink_node(child)
                append_node(trash, child)
            else:
                _strip(trash, child, names)
        child = following
    return 0


def first_descendant(cetree._Element root, str tag):
    """The first descendant of `root` with this (namespace-less) tag, in document order, or None:
    root.find(".//tag")."""
    cdef bytes name = tag.encode("utf-8")
    cdef xmlNode* node = root._c_node.children
    while node is not NULL:
        if node.type == XML_ELEMENT_NODE:
            if node.ns is NULL and strcmp(<const char*> node.name, <const char*> name) == 0:
                return cetree.elementFactory(root._doc, node)
            if node.children is not NULL:
                node = node.children
                continue
        node = after(node, root._c_node)
    return None
