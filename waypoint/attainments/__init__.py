"""PLR attainments: learners' achievements from the Learning Records Service, reviewed, exported and recorded."""
