from katsuo.cli import main

main()
