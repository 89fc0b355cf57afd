#!/usr/bin/env python
from waypoint.__main__ import main

if __name__ == "__main__":
    main()
