"""The book machinery: execute chapters, key them, render the book. Knows nothing of the paper."""
