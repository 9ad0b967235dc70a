"""ec-echo: the vendor plugin of the tutorial, a client of ec-mock's json dialect."""
