"""ec-echo: a toy vendor plugin for ec that accepts every order."""
