"""Tables and figures in the paper's layout, and the book's own plots."""
