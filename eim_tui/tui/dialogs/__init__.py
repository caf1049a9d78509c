"""Every modal screen: forms, questions, pickers and the help screen."""
