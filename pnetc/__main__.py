from pnetc.cli import main

main()
