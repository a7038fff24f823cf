"""Worker threads: the outbox that hands results to the GUI thread, jobs on QThreads, their priority."""
