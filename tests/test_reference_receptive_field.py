"""Reference values for cnnviz (issue 23): filled below."""
