"""Word lists the demo draws realistic people, employers and addresses from."""

FEMALE_FIRST_NAMES: tuple[str, ...] = (
    "Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Isabella", "Rosie", "Sophia",
    "Grace", "Freya", "Willow", "Florence", "Emily", "Ella", "Poppy", "Evie", "Elsie", "Charlotte",
    "Evelyn", "Sienna", "Sofia", "Daisy", "Phoebe", "Alice", "Harper", "Ruby", "Matilda", "Jessica",
    "Chloe", "Holly", "Megan", "Lauren", "Hannah", "Bethany", "Niamh", "Aisha", "Zara", "Amira",
    "Maryam", "Fatima", "Priya", "Anaya", "Maja", "Zuzanna", "Chiamaka", "Abigail", "Eleanor", "Imogen",
    "Katie", "Leah", "Molly", "Nia", "Rhiannon", "Sarah", "Tegan", "Yasmin", "Caitlin", "Erin",
)  # fmt: skip

MALE_FIRST_NAMES: tuple[str, ...] = (
    "Oliver", "George", "Noah", "Arthur", "Muhammad", "Leo", "Oscar", "Harry", "Archie", "Jack",
    "Henry", "Charlie", "Freddie", "Theodore", "Thomas", "Finley", "Theo", "Alfie", "Jacob", "William",
    "Isaac", "Tommy", "Joshua", "James", "Lucas", "Alexander", "Edward", "Max", "Mason", "Samuel",
    "Daniel", "Ryan", "Callum", "Connor", "Liam", "Kieran", "Owen", "Rhys", "Dylan", "Lewis",
    "Ethan", "Adam", "Ibrahim", "Yusuf", "Arjun", "Rohan", "Kacper", "Jakub", "Chidi", "Kwame",
    "Ben", "Joe", "Luke", "Matthew", "Nathan", "Reece", "Sam", "Tyler", "Aaron", "Jamie",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Thomas", "Clarke",
    "Jackson", "Wood", "Harris", "Edwards", "Turner", "Martin", "Cooper", "Hill", "Ward", "Hughes",
    "Moore", "Clark", "King", "Harrison", "Lewis", "Baker", "Lee", "Allen", "Morris", "Khan",
    "Scott", "Watson", "Davis", "Parker", "James", "Bennett", "Young", "Phillips", "Richardson", "Mitchell",
    "Bailey", "Carter", "Cook", "Singh", "Shaw", "Bell", "Collins", "Morgan", "Kelly", "Begum",
    "Miller", "Cox", "Hussain", "Marshall", "Simpson", "Price", "Anderson", "Adams", "Wilkinson", "Ali",
    "Ahmed", "Foster", "Ellis", "Murphy", "Chapman", "Mason", "Gray", "Richards", "Webb", "Griffiths",
    "Hunt", "Palmer", "Campbell", "Holmes", "Mills", "Rogers", "Barnes", "Knight", "Matthews", "Barker",
    "Powell", "Stevens", "Kaur", "Fisher", "Butler", "Dixon", "Russell", "Harvey", "Pearson", "Graham",
    "Fletcher", "Howard", "Gill", "Ford", "Lloyd", "Owen", "Stewart", "Reid", "Murray", "Kennedy",
    "Okafor", "Adeyemi", "Mensah", "Nowak", "Kowalski", "Chen", "Wang", "Nguyen", "Rahman", "Chowdhury",
    "Sharma", "Mistry", "Osei", "Boateng", "O'Brien", "O'Connor", "McDonald", "MacLeod", "Pritchard", "Llewellyn",
    "Fraser", "Hamilton", "Sutton", "Walsh", "Armstrong", "Hudson", "Lawrence", "Booth", "Dawson", "Fox",
)  # fmt: skip

# Town, postcode district, region group it belongs to.
TOWNS: tuple[tuple[str, str, str], ...] = (
    ("Leeds", "LS1", "Yorkshire and the Humber"),
    ("Bradford", "BD1", "Yorkshire and the Humber"),
    ("Sheffield", "S1", "Yorkshire and the Humber"),
    ("Hull", "HU1", "Yorkshire and the Humber"),
    ("York", "YO1", "Yorkshire and the Humber"),
    ("Manchester", "M1", "North West"),
    ("Liverpool", "L1", "North West"),
    ("Preston", "PR1", "North West"),
    ("Bolton", "BL1", "North West"),
    ("Newcastle upon Tyne", "NE1", "North East"),
    ("Sunderland", "SR1", "North East"),
    ("Middlesbrough", "TS1", "North East"),
    ("Durham", "DH1", "North East"),
    ("Birmingham", "B1", "Midlands"),
    ("Coventry", "CV1", "Midlands"),
    ("Nottingham", "NG1", "Midlands"),
    ("Leicester", "LE1", "Midlands"),
    ("Derby", "DE1", "Midlands"),
    ("Wolverhampton", "WV1", "Midlands"),
    ("London", "EC1A", "London and South East"),
    ("Croydon", "CR0", "London and South East"),
    ("Reading", "RG1", "London and South East"),
    ("Brighton", "BN1", "London and South East"),
    ("Milton Keynes", "MK9", "London and South East"),
    ("Bristol", "BS1", "South West"),
    ("Exeter", "EX1", "South West"),
    ("Plymouth", "PL1", "South West"),
    ("Swindon", "SN1", "South West"),
)

REGIONS: tuple[str, ...] = tuple(dict.fromkeys(region for _, _, region in TOWNS))

STREETS: tuple[str, ...] = (
    "High Street", "Station Road", "Church Street", "Victoria Road", "Park Road", "Mill Lane",
    "King Street", "Queen Street", "New Road", "Market Place", "Albert Street", "Bridge Street",
    "Canal Wharf", "Wellington Road", "York Road", "Commercial Street", "Trinity Way", "Enterprise Park",
    "Riverside Court", "Westgate", "Northgate", "Castle Street", "Union Street", "Grange Road",
)  # fmt: skip

EMPLOYER_STEMS: tuple[str, ...] = (
    "Northern", "Pennine", "Riverside", "Albion", "Summit", "Harbour", "Meridian", "Oakwood", "Beacon",
    "Crown", "Granite", "Kestrel", "Lakeland", "Horizon", "Sterling", "Vale", "Evergreen", "Ironbridge",
    "Brunel", "Castlegate", "Foundry", "Heron", "Juniper", "Keystone", "Millstone", "Orchard", "Pioneer",
    "Quayside", "Redbrick", "Thistle", "Wharfedale", "Westfield", "Aire", "Calder", "Severn", "Tamar",
)  # fmt: skip

EMPLOYER_TRADES: tuple[str, ...] = (
    "Software", "Logistics", "Engineering", "Housing Association", "Facilities Management", "Digital",
    "Health Services", "Construction", "Financial Services", "Retail Group", "Manufacturing", "Foods",
    "Care Homes", "Energy", "Print", "Telecom", "Legal Services", "Hospitality", "Systems", "Consulting",
)  # fmt: skip

EMPLOYER_SUFFIXES: tuple[str, ...] = ("Ltd", "Ltd", "Ltd", "plc", "LLP", "Group Ltd", "Trust", "CIC")

EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net", "mail.example.co.uk")
