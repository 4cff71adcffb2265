"""`python -m webapp`: the shop page, widget and agent console."""

from webapp.app import main

main()
