from pipehouse.cli import main

main()
