"""The sandbox's numeric limits, in one place (docs/PROCESSES.md and docs/PERFORMANCE.md)."""

DEFAULT_TIMEOUT_SECONDS = 1.0
MAX_STEPS = 2_000_000  # statements, loop rounds and calls per script run
MAX_SEQUENCE_LENGTH = 1_000_000  # items or characters made by one operator or range()
MAX_INT_BITS = 100_000  # about 30,000 decimal digits
MAX_INT_DIGITS = 4_300  # decimal digits int() reads from text (CPython's own default limit)
MAX_MEMORY_GROWTH_BYTES = 256 * 1024 * 1024
MAX_FORMAT_WIDTH = 1_000
# Items plus characters that str/repr/==/hash/sorted/... may walk in C, counting a shared
# value each time it is reached (as the C code does).
MAX_LOGICAL_SIZE = 4 * MAX_SEQUENCE_LENGTH
MAX_STORED_ITEMS = 2 * MAX_SEQUENCE_LENGTH  # values (list items, dict entries) kept after a run
MAX_STORED_CHARACTERS = 16 * MAX_SEQUENCE_LENGTH  # characters of all the strings kept
MAX_STORED_DEPTH = 50
# A sequence this long counts as a big allocation: the operator guards tick the budget for it.
BIG_ALLOCATION = 100_000
