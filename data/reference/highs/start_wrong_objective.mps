NAME        
ROWS
 N  Obj     
 L  r0      
 L  r1      
 L  r2      
 L  r3      
 G  r4      
COLUMNS
    MARK0000  'MARKER'                 'INTORG'
    c0        Obj       5
    c0        r0        -1
    c0        r1        -1
    c0        r2        -1
    c0        r3        -1
    c1        Obj       2
    c1        r0        -1
    c2        Obj       4
    c2        r1        -1
    c3        Obj       2
    c3        r2        -1
    c4        Obj       1
    c4        r3        -1
    c5        r0        1
    c5        r4        5
    c6        r1        1
    c6        r4        2
    c7        r2        1
    c7        r4        2
    c8        r3        1
    c8        r4        4
    MARK0001  'MARKER'                 'INTEND'
RHS
    RHS_V     r4        10.3999999999896
BOUNDS
 BV BOUND     c0      
 BV BOUND     c1      
 BV BOUND     c2      
 BV BOUND     c3      
 BV BOUND     c4      
 FX BOUND     c5        1
 BV BOUND     c6      
 BV BOUND     c7      
 BV BOUND     c8      
ENDATA
