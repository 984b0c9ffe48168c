"""The demo county's structure: where it lies and what it is called (`geography`, `offices`,
`names`), who works and lives there (`plan`), the same written to the database through the
services (`structure`), and its incidents: the mix shared with the simulator (`mix`,
`incident_texts`), the closed history (`history`) and the few in flight at generation time
(`open_incidents`). `pingan.demo.generate` puts it all together.
"""
